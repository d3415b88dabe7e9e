# Consent row filter: only rows whose consent column holds the consenting
# value are aggregated. The agent ANDs the predicate into the sub-plan's
# filter before it renders the engine SQL.
#
# data.fedmesh.settings.consent_filter.tables:
#   {table: {"column": "consent_research", "value": true}}
# A table not listed gets no filter; list every table with consent data.
package fedmesh.library.consent_filter

default tables := {}

tables := data.fedmesh.settings.consent_filter.tables

literal(v) := {"op": "literal", "value": {"kind": "bool", "bool": v}} if is_boolean(v)

literal(v) := {"op": "literal", "value": {"kind": "int", "int": v}} if {
	is_number(v)
	v == round(v)
}

literal(v) := {"op": "literal", "value": {"kind": "string", "str": v}} if is_string(v)

obligations := {"row_filter": {"op": "eq", "args": [{"op": "column", "column": c.column}, literal(c.value)]}} if {
	some t in input.plan.tables
	c := tables[t]
}

deny contains msg if {
	some t in input.plan.tables
	c := tables[t]
	not literal(c.value)
	msg := sprintf("fedmesh.consent_filter: settings for table %s have a consent value of an unsupported type; use true, an integer or a string", [t])
}
