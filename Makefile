# `make bench`: every benchmark in release mode, one table, bench/results.json (scripts/bench.sh).
# `make test`: the test suite (scripts/test.sh).
.PHONY: bench test

bench:
	scripts/bench.sh

test:
	scripts/test.sh
