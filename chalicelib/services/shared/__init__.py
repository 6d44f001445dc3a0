"""What every feature's admin calls share: the API's errors, cursor pagination, optimistic writes with their
audit entry, and idempotency keys for creates."""
