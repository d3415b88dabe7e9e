// Package sampledata generates the deterministic demo data of one site:
// sales.parquet and customers.parquet, derived only from (site, seed), so
// that tests, demos and docs agree on every number.
//
// Each site has a Profile fixing its rare-region row counts per year, chosen
// so that a minimum group size of 10 suppresses different (region, year)
// groups at different sites. Order ids are offset per site so they never
// collide across sites; customer ids are 1..N at every site, with
// site-specific segment, country and birth year, so the same id appears at
// several sites and a join computed across sites would give a different
// answer from per-site joins.
//
// This package writes files and nothing else: it must not be used by the
// agent or coordinator at run time, and it holds no real or personal data.
package sampledata
