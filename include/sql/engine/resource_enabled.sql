-- No row (or a NULL flag) means ON.
SELECT coalesce((SELECT enabled FROM edfi_sync.resource_toggle
                  WHERE end_year = %(end_year)s AND resource = %(resource)s), true)
