# Herald's entry points. `make run` and `make test` are all a newcomer needs; CI runs `make ci`.
CARGO ?= cargo

.PHONY: run test ci lint fmt fmt-check bench broker

## Herald on one machine: every service in one process, embedded defaults.
run:
	$(CARGO) run -p herald -- serve

## Every test of the workspace. Tests about the bus use the RabbitMQ broker on 127.0.0.1:5672.
test: broker
	$(CARGO) test --workspace

## What CI runs: formatting, lints, then the tests.
ci: fmt-check lint test

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

## Benchmarks print their figures; they never gate anything on wall-clock time.
bench: broker
	$(CARGO) bench --workspace

## Starts RabbitMQ if it is installed and stopped; installs Debian's package when run as root.
broker:
	@bash deploy/ensure-rabbitmq.sh
