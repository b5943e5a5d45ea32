# The two quick-start commands. Each installs what it needs first (scripts/deps.sh).
.PHONY: demo test deps bench-deps

deps:
	@scripts/deps.sh

# What the benchmarks compare against (kiln bench net: wrk, nginx, ping); not needed by the tests.
bench-deps: deps
	@scripts/deps.sh bench

demo: deps
	node bin/kiln.js run apps/helloworld -- from the Kiln quick start

test: deps
	node scripts/test.mjs
