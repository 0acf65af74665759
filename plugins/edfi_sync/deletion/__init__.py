"""The Delete Tool (SPEC §6.1): delete ODS records by resource and natural key, by Ed-Fi id or from
a CSV of keys, with the dependents the ODS would refuse to delete them over, children first.

Preview is the default: it GETs what is asked and what references it (the resource graph tells
where to look) and stores the plan; a run deletes exactly that plan, once, holding the step locks of
the resources it deletes from, and keeps the identity map true. Never students; a record outside
the identity map only when it was chosen explicitly.

``plan`` holds the rules (pure), ``tool`` the ODS and the database, ``cli`` ``edfi-sync delete``;
the DAG ``edfi_delete`` runs the same tool (``operators/delete.py``).
"""
