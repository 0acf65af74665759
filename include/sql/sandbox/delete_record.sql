DELETE FROM edfi_sandbox.record WHERE store = %(store)s AND id = %(id)s
