package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkAppend measures durable appends from many goroutines; the
// records/fsync metric shows how well group commit batches them.
func BenchmarkAppend(b *testing.B) {
	for _, par := range []int{1, 16} {
		b.Run(fmt.Sprintf("parallelism=%d", par), func(b *testing.B) {
			l, err := Open(filepath.Join(b.TempDir(), "audit.log"), Options{Component: ComponentSiteAgent})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			rec := sample(1)
			b.SetParallelism(par)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, err := l.Append(context.Background(), rec); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if s := l.syncs.Load(); s > 0 {
				b.ReportMetric(float64(b.N)/float64(s), "records/fsync")
			}
		})
	}
}
