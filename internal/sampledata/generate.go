package sampledata

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Options tunes Generate. Zero values take the defaults.
type Options struct {
	Seed      uint64
	SalesRows int // default 30000, including the rare-region rows of the site's Profile
	Customers int // default 5000
}

// Default sizes.
const (
	DefaultSalesRows = 30000
	DefaultCustomers = 5000
)

// Files are the paths Generate wrote.
type Files struct {
	Sales, Customers string
}

// sale is one sales row; a nil status is SQL NULL.
type sale struct {
	orderID, customerID int64
	region              string
	year                int32
	amount              float64
	status              *string
}

// customer is one customers row; a nil birth year is SQL NULL.
type customer struct {
	customerID int64
	segment    string
	country    string
	birthYear  *int32
}

var (
	commonRegions = []weighted{{"north", 25}, {"south", 20}, {"east", 20}, {"west", 20}, {"central", 15}}
	yearWeights   = []int{16, 18, 20, 22, 24} // gentle growth over FirstYear..LastYear
	statuses      = []weighted{{"paid", 70}, {"shipped", 15}, {"returned", 8}, {"cancelled", 7}}
	segments      = []weighted{{"consumer", 60}, {"small_business", 25}, {"corporate", 12}, {"public_sector", 3}}
	countries     = []weighted{{"NO", 30}, {"SE", 25}, {"DK", 15}, {"FI", 15}, {"IS", 5}, {"DE", 5}, {"NL", 5}}
)

const (
	statusNullPercent    = 3
	birthYearNullPercent = 5
)

type weighted struct {
	value  string
	weight int
}

func pick(rng *rand.Rand, ws []weighted) string {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	n := rng.IntN(total)
	for _, w := range ws {
		if n < w.weight {
			return w.value
		}
		n -= w.weight
	}
	panic("unreachable")
}

func pickIndex(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	panic("unreachable")
}

func (o *Options) withDefaults(p Profile) (Options, error) {
	out := *o
	var errs []error
	switch {
	case out.SalesRows == 0:
		out.SalesRows = DefaultSalesRows
	case out.SalesRows < 0 || out.SalesRows > maxSalesRows:
		errs = append(errs, fmt.Errorf("sales rows: must be in 1..%d, got %d", maxSalesRows, out.SalesRows))
	}
	switch {
	case out.Customers == 0:
		out.Customers = DefaultCustomers
	case out.Customers < 0 || out.Customers > maxSalesRows:
		errs = append(errs, fmt.Errorf("customers: must be in 1..%d, got %d", maxSalesRows, out.Customers))
	}
	if rare := p.RareTotal(); out.SalesRows > 0 && out.SalesRows < rare {
		errs = append(errs, fmt.Errorf("sales rows: the site's profile needs at least %d rows for its rare regions, got %d", rare, out.SalesRows))
	}
	return out, errors.Join(errs...)
}

// generate builds the rows for one site. It is pure: the same (site, opts)
// always give the same rows, in the same order.
func generate(site string, p Profile, opts Options) ([]sale, []customer) {
	rng := rand.New(rand.NewPCG(opts.Seed, siteHash(site)))

	type slot struct {
		region string
		year   int32
	}
	slots := make([]slot, 0, opts.SalesRows)
	for _, region := range RareRegions {
		for y, n := range p.Rare[region] {
			for range n {
				slots = append(slots, slot{region, int32(FirstYear + y)})
			}
		}
	}
	for len(slots) < opts.SalesRows {
		slots = append(slots, slot{pick(rng, commonRegions), int32(FirstYear + pickIndex(rng, yearWeights))})
	}
	// Spread the rare rows over the order ids instead of leaving them first.
	rng.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })

	sales := make([]sale, len(slots))
	for i, s := range slots {
		row := sale{
			orderID:    p.IDBase + int64(i) + 1,
			customerID: 1 + int64(rng.IntN(opts.Customers)),
			region:     s.region,
			year:       s.year,
			// Skewed like real order values; rounded to cents.
			amount: math.Round((5+rng.ExpFloat64()*120)*100) / 100,
		}
		if rng.IntN(100) >= statusNullPercent {
			st := pick(rng, statuses)
			row.status = &st
		}
		sales[i] = row
	}

	// Customer ids are 1..Customers at every site, each site with its own
	// attributes for them: the same id names different customers at
	// different sites, so a join that crossed sites would give a different
	// answer from the per-site joins fedmesh computes.
	customers := make([]customer, opts.Customers)
	for i := range customers {
		c := customer{
			customerID: int64(i) + 1,
			segment:    pick(rng, segments),
			country:    pick(rng, countries),
		}
		if rng.IntN(100) >= birthYearNullPercent {
			by := int32(1940 + rng.IntN(66))
			c.birthYear = &by
		}
		customers[i] = c
	}
	return sales, customers
}

// Generate writes sales.parquet and customers.parquet for one site into dir,
// deterministically from (site, opts): the same inputs give byte-identical
// files. dir is created if needed; existing files are replaced atomically.
func Generate(ctx context.Context, dir, site string, opts Options) (Files, error) {
	if site == "" {
		return Files{}, errors.New("generate sample data: site must be set")
	}
	p := ProfileFor(site)
	opts, err := opts.withDefaults(p)
	if err != nil {
		return Files{}, fmt.Errorf("generate sample data for site %q: %w", site, err)
	}
	sales, customers := generate(site, p, opts)
	files, err := writeParquet(ctx, dir, sales, customers)
	if err != nil {
		return Files{}, fmt.Errorf("generate sample data for site %q: %w", site, err)
	}
	return files, nil
}
