package main

import (
	"math"
	"slices"
	"time"
)

// Latency summarises timed calls, in microseconds.
type Latency struct {
	N      int     `json:"n"`
	P50us  float64 `json:"p50_us"`
	P90us  float64 `json:"p90_us"`
	P99us  float64 `json:"p99_us"`
	MaxUs  float64 `json:"max_us"`
	MeanUs float64 `json:"mean_us"`
}

// summarize returns the latency summary of d (which it sorts).
func summarize(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return Latency{
		N:      len(d),
		P50us:  us(percentile(d, 0.50)),
		P90us:  us(percentile(d, 0.90)),
		P99us:  us(percentile(d, 0.99)),
		MaxUs:  us(d[len(d)-1]),
		MeanUs: us(sum / time.Duration(len(d))),
	}
}

// percentile is the nearest-rank q-quantile of sorted: the smallest value
// with at least q of the samples at or below it.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func us(d time.Duration) float64 { return round3(float64(d) / float64(time.Microsecond)) }

// round3 keeps three decimals, for readable JSON.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Throughput is a latency summary plus the rate the callers achieved.
type Throughput struct {
	Latency
	Callers     int     `json:"callers"`
	CallsPerSec float64 `json:"calls_per_sec"`
}
