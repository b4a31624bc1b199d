package procstate

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestBaseName: a default name says what runs.
func TestBaseName(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"npm run", Spec{Command: "npm run dev"}, "dev"},
		{"npm run with flags", Spec{Command: "npm --silent run build -- --watch"}, "build"},
		{"npm start", Spec{Command: "npm start"}, "start"},
		{"pnpm script", Spec{Command: "pnpm dev"}, "dev"},
		{"pnpm run", Spec{Argv: []string{"pnpm", "run", "dev"}}, "dev"},
		{"yarn script", Spec{Command: "yarn dev"}, "dev"},
		{"bun run", Spec{Command: "bun run dev"}, "dev"},
		{"script with a colon", Spec{Command: "npm run dev:api"}, "dev:api"},
		{"npm install is no script", Spec{Command: "npm install"}, "npm"},
		{"npx", Spec{Command: "npx vite"}, "vite"},
		{"npx with flags", Spec{Command: "npx --yes vite --port 3000"}, "vite"},
		{"pnpm exec", Spec{Command: "pnpm exec vite"}, "vite"},
		{"bunx", Spec{Argv: []string{"bunx", "vite"}}, "vite"},
		{"yarn dlx", Spec{Command: "yarn dlx create-vite"}, "create-vite"},
		{"go run package", Spec{Command: "go run ./cmd/api"}, "api"},
		{"go run file", Spec{Argv: []string{"go", "run", "main.go"}}, "main"},
		{"go run .", Spec{Command: "go run ."}, "go"},
		{"go build", Spec{Command: "go build ./..."}, "go"},
		{"python -m", Spec{Command: "python -m http.server 8000"}, "http.server"},
		{"python3 -m", Spec{Argv: []string{"/usr/bin/python3", "-m", "pytest", "-x"}}, "pytest"},
		{"program path", Spec{Argv: []string{"/usr/local/bin/caddy", "run"}}, "caddy"},
		{"after cd and env", Spec{Command: "cd web && PORT=3000 npm run dev"}, "dev"},
		{"wrapper", Spec{Command: "exec node server.js"}, "node"},
		{"shell syntax", Spec{Command: "for i in 1 2; do echo $i; done"}, "sh"},
		{"nothing usable", Spec{Argv: []string{"..."}}, "proc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.spec.baseName())
		})
	}
}
