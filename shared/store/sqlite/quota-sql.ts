/**
 * Units a period still has, as one SQL expression over the ledger, the intake and due refunds. Both the
 * reservation and the shortfall report use it, so they can never disagree. Parameters: ?1 period key,
 * ?2 allowance, ?3 now. Requests still in the intake count as spent; refunds already due count as given
 * back even before a drain applies them.
 */
export const AVAILABLE_UNITS_SQL = `(
  ?2
  + coalesce((SELECT extra - used FROM quota_periods WHERE period_key = ?1), 0)
  - (SELECT coalesce(sum(units), 0) FROM intake WHERE period_key = ?1)
  + (SELECT coalesce(sum(units), 0) FROM refunds WHERE period_key = ?1 AND due_at <= ?3)
)`;
