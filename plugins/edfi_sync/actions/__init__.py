"""What operators do beyond reading (SPEC §6.1), shared by the pages and the command line: the
audit trail every action writes, archiving errors and retrying their records, and the Resync
preview read from a dry run. The Delete Tool is its own package (``edfi_sync.deletion``)."""
