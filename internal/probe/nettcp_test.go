package probe

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Lines of /proc/net/tcp and /proc/net/tcp6 as Linux writes them.
const (
	tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n"
	// 127.0.0.1:8080, listening, inode 41953.
	tcpListen8080 = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41953 1 0000000000000000 100 0 0 10 0                     \n"
	// 0.0.0.0:2024, listening, inode 1371.
	tcpListenAny = "   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1371 1 0000000091d0f5f0 100 0 0 10 0                      \n"
	// A connection to 8080, established.
	tcpEstablished = "   2: 0100007F:96C5 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 41960 1 0000000000000000 20 4 30 10 -1                    \n"
	// A closed connection waiting out its time, no inode.
	tcpTimeWait = "   3: 0100007F:AB03 0100007F:AD8C 06 00000000:00000000 03:00000DAF 00000000     0        0 0 3 00000000978472f9                                      \n"
	tcp6Header  = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	// [::]:22, listening, inode 20525.
	tcp6ListenAny = "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20525 1 0000000000000000 100 0 0 10 0\n"
	// [::1]:5173, listening, inode 98765.
	tcp6ListenLoopback = "   1: 00000000000000000000000001000000:1435 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 98765 1 0000000000000000 100 0 0 10 0\n"
	// [::1]:5173 <- [::1]:40000, established.
	tcp6Established = "   2: 00000000000000000000000001000000:1435 00000000000000000000000001000000:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 98770 1 0000000000000000 20 4 30 10 -1\n"
)

func TestParseListeners(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want map[uint64]int
	}{
		{name: "empty", text: "", want: map[uint64]int{}},
		{name: "header only", text: tcpHeader, want: map[uint64]int{}},
		{
			name: "tcp",
			text: tcpHeader + tcpListen8080 + tcpListenAny + tcpEstablished + tcpTimeWait,
			want: map[uint64]int{41953: 8080, 1371: 2024},
		},
		{
			name: "tcp6",
			text: tcp6Header + tcp6ListenAny + tcp6ListenLoopback + tcp6Established,
			want: map[uint64]int{20525: 22, 98765: 5173},
		},
		{name: "no final newline", text: strings.TrimSuffix(tcpListen8080, "\n"), want: map[uint64]int{41953: 8080}},
		{name: "CRLF", text: strings.ReplaceAll(tcpListen8080, "\n", "\r\n"), want: map[uint64]int{41953: 8080}},
		{name: "only established", text: tcpEstablished + tcp6Established, want: map[uint64]int{}},
		{
			name: "garbage between",
			text: "garbage\n\n\x00\xff\n" + tcpListen8080 + "0: a b 0A\n" + tcp6ListenAny,
			want: map[uint64]int{41953: 8080, 20525: 22},
		},
		{name: "state in lower case", text: strings.Replace(tcpListen8080, " 0A ", " 0a ", 1), want: map[uint64]int{}},
		{name: "port 0", text: strings.Replace(tcpListen8080, ":1F90", ":0000", 1), want: map[uint64]int{}},
		{name: "port not hex", text: strings.Replace(tcpListen8080, ":1F90", ":1G90", 1), want: map[uint64]int{}},
		{name: "port beyond 16 bits", text: strings.Replace(tcpListen8080, ":1F90", ":10000", 1), want: map[uint64]int{}},
		{name: "port with a sign", text: strings.Replace(tcpListen8080, ":1F90", ":+1F90", 1), want: map[uint64]int{}},
		{name: "highest port", text: strings.Replace(tcpListen8080, ":1F90", ":FFFF", 1), want: map[uint64]int{41953: 65535}},
		{name: "no colon", text: strings.Replace(tcpListen8080, "0100007F:1F90", "0100007F1F90", 1), want: map[uint64]int{}},
		{name: "inode 0", text: strings.Replace(tcpListen8080, " 41953 ", " 0 ", 1), want: map[uint64]int{}},
		{name: "inode not a number", text: strings.Replace(tcpListen8080, " 41953 ", " 4195x ", 1), want: map[uint64]int{}},
		{name: "inode negative", text: strings.Replace(tcpListen8080, " 41953 ", " -41953 ", 1), want: map[uint64]int{}},
		{name: "cut short", text: tcpListen8080[:60], want: map[uint64]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[uint64]int{}
			ParseListeners([]byte(tt.text), got)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestParseListenersAdds: a second parse adds to what the first found, as
// Listening does with tcp and tcp6.
func TestParseListenersAdds(t *testing.T) {
	t.Parallel()
	got := map[uint64]int{}
	ParseListeners([]byte(tcpHeader+tcpListen8080), got)
	ParseListeners([]byte(tcp6Header+tcp6ListenLoopback), got)
	assert.Equal(t, map[uint64]int{41953: 8080, 98765: 5173}, got)
}

func TestSocketInode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		target string
		want   uint64
		wantOK bool
	}{
		{"socket:[12345]", 12345, true},
		{"socket:[0]", 0, true},
		{"socket:[]", 0, false},
		{"socket:[12x]", 0, false},
		{"socket:[12345", 0, false},
		{"pipe:[12345]", 0, false},
		{"/dev/null", 0, false},
		{"", 0, false},
		{"socket:[", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			got, ok := socketInode(tt.target)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// FuzzParseListeners: no input makes the parser panic, and each socket it
// reports has an inode and a port 1..65535.
func FuzzParseListeners(f *testing.F) {
	for _, seed := range []string{
		"",
		tcpHeader + tcpListen8080 + tcpListenAny + tcpEstablished + tcpTimeWait,
		tcp6Header + tcp6ListenAny + tcp6ListenLoopback + tcp6Established,
		"0: :FFFF x 0A a b c d e 1\n",
		"0: ::: x 0A a b c d e 18446744073709551615\n",
		"garbage\x00\xff\n\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		got := map[uint64]int{}
		ParseListeners(text, got)
		for inode, port := range got {
			if inode == 0 || port < 1 || port > 65535 {
				t.Fatalf("socket with inode %d and port %d from %q", inode, port, text)
			}
		}
	})
}
