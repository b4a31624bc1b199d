package procstate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCPUPct(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	reading := func(at time.Duration, tick uint64, ms ...cpuReading) groupReading {
		return groupReading{members: ms, at: t0.Add(at), tick: tick}
	}
	tests := []struct {
		name          string
		before, after groupReading
		want          float64
	}{
		{"one core", reading(0, 1000, cpuReading{pid: 10, start: 5, ticks: 100}), reading(time.Second, 1100, cpuReading{pid: 10, start: 5, ticks: 200}), 100},
		{"two members, half a core each", reading(0, 1000, cpuReading{10, 5, 100}, cpuReading{11, 6, 0}),
			reading(2*time.Second, 1200, cpuReading{10, 5, 200}, cpuReading{11, 6, 100}), 100},
		{"a member started since counts all its time", reading(0, 1000, cpuReading{10, 5, 100}),
			reading(time.Second, 1100, cpuReading{10, 5, 100}, cpuReading{12, 1050, 30}), 30},
		{"a member there before but unread counts nothing", reading(0, 1000, cpuReading{10, 5, 100}),
			reading(time.Second, 1100, cpuReading{10, 5, 150}, cpuReading{12, 900, 5000}), 50},
		{"a reused pid is a new member", reading(0, 1000, cpuReading{10, 5, 100}),
			reading(time.Second, 1100, cpuReading{10, 1010, 20}), 20},
		{"a member that exited is not counted", reading(0, 1000, cpuReading{10, 5, 100}, cpuReading{11, 6, 100}),
			reading(time.Second, 1100, cpuReading{10, 5, 110}), 10},
		{"time never runs back", reading(0, 1000, cpuReading{10, 5, 100}), reading(time.Second, 1100, cpuReading{10, 5, 90}), 0},
		{"no time between", reading(time.Second, 1000, cpuReading{10, 5, 100}), reading(time.Second, 1000, cpuReading{10, 5, 200}), 0},
		{"nothing", reading(0, 1000), reading(time.Second, 1100), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, cpuPct(tt.before, tt.after), 1e-9)
		})
	}
}
