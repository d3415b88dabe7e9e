package sampledata

import (
	"hash/fnv"
	"math/rand/v2"
)

// Years of the generated sales, inclusive.
const (
	FirstYear = 2020
	LastYear  = 2024
	NumYears  = LastYear - FirstYear + 1
)

// Regions lists every region that may appear in sales.region. The first five
// are common at every site; RareRegions are small and differ by site.
var Regions = []string{"north", "south", "east", "west", "central", "islands", "arctic"}

// RareRegions are the regions whose row counts are fixed per site by Profile,
// so that small-group suppression differs between sites.
var RareRegions = []string{"islands", "arctic"}

// maxSalesRows bounds Options.SalesRows so that order ids of different sites,
// spaced 1<<24 apart or more, never overlap.
const maxSalesRows = 1 << 24

// Profile is the fixed shape of one site's data.
type Profile struct {
	// Rare holds, for each rare region, the exact number of sales rows per
	// year (index 0 is FirstYear). Regions absent from the map have no rows.
	Rare map[string][NumYears]int
	// IDBase is added to the 1-based row numbers to form order_id, keeping
	// order ids unique across sites. Customer ids are not offset: they
	// repeat across sites on purpose (see generate).
	IDBase int64
}

// RareTotal is the number of sales rows in rare regions.
func (p Profile) RareTotal() int {
	n := 0
	for _, counts := range p.Rare {
		for _, c := range counts {
			n += c
		}
	}
	return n
}

// ProfileFor returns the profile of a site. Sites "a", "b" and "c" (the demo
// sites) have hand-picked profiles; with a minimum group size of 10:
//
//	site a: arctic 6 rows (all years suppressed), islands ~60 a year (kept)
//	site b: islands 5 a year (all suppressed), no arctic rows at all
//	site c: arctic 4,6,8,10,12 (2020-2022 suppressed, 2023-2024 kept), islands ~30 a year
//
// Any other site gets a profile derived from a hash of its name, which does
// not depend on the seed.
func ProfileFor(site string) Profile {
	switch site {
	case "a":
		return Profile{IDBase: 1_000_000_000, Rare: map[string][NumYears]int{
			"arctic":  {2, 1, 1, 1, 1},
			"islands": {60, 62, 58, 61, 59},
		}}
	case "b":
		return Profile{IDBase: 2_000_000_000, Rare: map[string][NumYears]int{
			"islands": {5, 5, 5, 5, 5},
		}}
	case "c":
		return Profile{IDBase: 3_000_000_000, Rare: map[string][NumYears]int{
			"arctic":  {4, 6, 8, 10, 12},
			"islands": {30, 28, 32, 30, 30},
		}}
	}
	h := siteHash(site)
	rng := rand.New(rand.NewPCG(h, 0x5eed))
	var islands, arctic [NumYears]int
	for y := range NumYears {
		islands[y] = rng.IntN(61) // 0..60: some years under 10, most over
		arctic[y] = rng.IntN(16)  // 0..15: mostly under 10
	}
	// Above every hand-picked base (< 2^32) and spaced by 2^24 per hash value.
	return Profile{
		IDBase: (int64(uint32(h)) + 256) << 24,
		Rare:   map[string][NumYears]int{"islands": islands, "arctic": arctic},
	}
}

func siteHash(site string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(site))
	return h.Sum64()
}
