# Differential privacy for protected tables (see policy/README.md,
# "Differential privacy").
#
# A table listed under data.fedmesh.protected_tables is answered only with
# differential privacy: the decision carries an obligations.dp object and the
# agent bounds each unit's contribution, clamps values, adds discrete
# Gaussian noise, thresholds groups on a noisy count and debits the analyst's
# budget in the site's ledger before anything leaves. Settings per table:
#
#   unit                 the privacy unit column (one person), e.g. customer_id
#   max_groups_per_unit  groups one unit may contribute to (default 1)
#   max_rows_per_group   rows one unit may contribute to one group (default 1)
#   bounds               {column: [lower, upper]} clamp bounds for SUM/AVG/VAR
#   default_epsilon      epsilon a query spends when the analyst asks none
#   max_epsilon          the most one query may spend
#   delta                per-query delta
#   budget               {delta, epsilon_day, epsilon_month, epsilon_total} or
#                        {rho_day, rho_month, rho_total} per analyst
package fedmesh

default dp_protected := {}

dp_protected := data.fedmesh.protected_tables

# Protected tables this plan reads, in plan order.
protected_in_plan := [t | some t in input.plan.tables; dp_protected[t]]

dp_table := protected_in_plan[0] if count(protected_in_plan) > 0

dp_settings := dp_protected[dp_table]

default requested_epsilon := 0

requested_epsilon := input.privacy.epsilon if input.privacy.epsilon > 0

granted_epsilon := dp_settings.default_epsilon if requested_epsilon == 0

granted_epsilon := requested_epsilon if {
	requested_epsilon > 0
	requested_epsilon <= dp_settings.max_epsilon
}

deny contains msg if {
	dp_table
	requested_epsilon > dp_settings.max_epsilon
	msg := sprintf(
		"fedmesh.dp_epsilon: the query asks epsilon %v at site %s, but one query on protected table %s may spend at most %v; ask for less",
		[requested_epsilon, site_name, dp_table, dp_settings.max_epsilon],
	)
}

deny contains msg if {
	count(protected_in_plan) > 1
	msg := sprintf(
		"fedmesh.dp_join: tables %s are each protected by differential privacy at site %s with their own privacy unit; a join of two protected tables is not supported",
		[concat(", ", protected_in_plan), site_name],
	)
}

deny contains msg if {
	dp_table
	not input.analyst.verified
	msg := sprintf(
		"fedmesh.dp_credential: table %s is protected by differential privacy at site %s and budgets are kept per analyst, so the site must verify the analyst's signed credential itself; sign in with the identity provider (fedctl --token) instead of a static token",
		[dp_table, site_name],
	)
}

deny contains msg if {
	dp_table
	some a in input.plan.aggregates
	a.function in {"min", "max"}
	msg := sprintf(
		"fedmesh.dp_minmax: %s on protected table %s at site %s would reveal one person's value; use a differentially private percentile instead, e.g. percentile_cont(0.95) WITHIN GROUP (ORDER BY x)",
		[upper(a.function), dp_table, site_name],
	)
}

# Sum, AVG and VAR clamp each value into declared bounds; without bounds the
# sensitivity is unbounded, so the query is refused naming the column.
deny contains msg if {
	dp_table
	some a in input.plan.aggregates
	a.function in {"sum", "var_pop", "quantile_sketch"}
	a.column != ""
	a.column != "*"
	not has_bounds(a.column)
	msg := sprintf(
		"fedmesh.dp_bounds: %s(%s) on protected table %s at site %s needs clamp bounds for %s, and the site's data officer declared none",
		[a.function, a.column, dp_table, site_name, a.column],
	)
}

deny contains msg if {
	dp_table
	some a in input.plan.aggregates
	a.function in {"sum", "var_pop", "quantile_sketch"}
	a.arg
	msg := sprintf(
		"fedmesh.dp_bounds: %s over an expression on protected table %s at site %s cannot be clamped to declared bounds; aggregate a column with declared bounds (and filter with WHERE)",
		[a.function, dp_table, site_name],
	)
}

deny contains msg if {
	dp_table
	some a in input.plan.aggregates
	a.function == "hll"
	not same_column(a.column, dp_settings.unit)
	msg := sprintf(
		"fedmesh.dp_distinct: COUNT(DISTINCT …) on protected table %s at site %s is answered only for the privacy unit %s (the number of people); count rows (COUNT(*)) or COUNT(DISTINCT %s) instead",
		[dp_table, site_name, dp_settings.unit, dp_settings.unit],
	)
}

same_column(a, b) if lower(a) == lower(b)

same_column(a, b) if {
	parts := split(a, ".")
	count(parts) == 2
	lower(parts[1]) == lower(b)
}

has_bounds(column) if {
	some c, _ in dp_settings.bounds
	lower(c) == lower(column)
}

has_bounds(column) if {
	parts := split(column, ".")
	count(parts) == 2
	some c, _ in dp_settings.bounds
	lower(c) == lower(parts[1])
}

default dp_obligation := {}

dp_obligation := {"dp": {
	"table": dp_table,
	"unit": dp_settings.unit,
	"max_groups_per_unit": object.get(dp_settings, "max_groups_per_unit", 1),
	"max_rows_per_group": object.get(dp_settings, "max_rows_per_group", 1),
	"bounds": object.get(dp_settings, "bounds", {}),
	"epsilon": granted_epsilon,
	"delta": object.get(dp_settings, "delta", 0.000001),
	"budget": dp_settings.budget,
}} if {
	dp_table
	granted_epsilon
}
