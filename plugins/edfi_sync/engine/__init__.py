"""The sync engine (SPEC §5): extract, build, stage, diff against the identity map, send, record."""
