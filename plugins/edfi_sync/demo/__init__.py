"""`edfi-sync demo-data`: a deterministic synthetic district and its configuration for one school year.

``world`` plans who exists and which edge case each student carries, ``tables`` turns the plan
into SIS rows (one generator per table, each with its own seeded random stream), ``config`` writes
the year's Resource Preferences and the sandbox's local descriptors, ``load`` streams it all with COPY.
"""
