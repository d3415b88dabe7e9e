# Only aggregates leave the site: a plan of kind "rows" (SELECT *, or a
# projection without GROUP BY or aggregates) is denied.
package fedmesh.library.aggregate_only

deny contains msg if {
	not input.plan.kind == "aggregate"
	msg := sprintf("fedmesh.aggregate_only: site %s exports only aggregates; raw rows may not leave the site — group by permitted columns and use COUNT/SUM/AVG/MIN/MAX", [input.site])
}
