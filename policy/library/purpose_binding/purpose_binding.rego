# Purpose binding: every request names a registered purpose, the analyst
# holds a role registered for it, and the table is one the purpose covers.
#
# data.fedmesh.settings.purpose_binding.purposes:
#   {purpose: {"roles": [role, ...], "tables": [table, ...]}}
package fedmesh.library.purpose_binding

default purposes := {}

purposes := data.fedmesh.settings.purpose_binding.purposes

registered if input.purpose in object.keys(purposes)

deny contains msg if {
	not registered
	msg := sprintf("fedmesh.purpose_binding: purpose %q is not registered at site %s; registered purposes: %v", [object.get(input, "purpose", ""), input.site, sort(object.keys(purposes))])
}

deny contains msg if {
	p := purposes[input.purpose]
	count({r | some r in input.analyst.roles; r in p.roles}) == 0
	msg := sprintf("fedmesh.purpose_binding: purpose %q at site %s requires one of the roles %v; analyst %s has %v", [input.purpose, input.site, p.roles, input.analyst.id, input.analyst.roles])
}

deny contains msg if {
	p := purposes[input.purpose]
	some t in input.plan.tables
	not t in p.tables
	msg := sprintf("fedmesh.purpose_binding: purpose %q does not cover table %s at site %s", [input.purpose, t, input.site])
}
