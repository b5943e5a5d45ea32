# The two quick-start commands. Each installs what it needs first (scripts/deps.sh).
.PHONY: demo test deps

deps:
	@scripts/deps.sh

demo: deps
	node bin/kiln.js run apps/helloworld -- from the Kiln quick start

test: deps
	node scripts/test.mjs
