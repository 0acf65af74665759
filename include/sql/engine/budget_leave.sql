-- Leave the budget: the member lock and every slot (the budget's connection holds nothing else).
SELECT pg_advisory_unlock_all()
