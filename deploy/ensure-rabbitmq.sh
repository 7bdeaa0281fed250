#!/usr/bin/env bash
# Makes sure a RabbitMQ broker answers on 127.0.0.1:5672 (guest/guest) for the tests about the
# bus: leaves a running broker alone, starts an installed one, installs Debian's rabbitmq-server
# when run as root and it is absent.
set -euo pipefail

port_open() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if port_open; then
  exit 0
fi

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-rabbitmq: installing Debian's rabbitmq-server"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  else
    echo "ensure-rabbitmq: RabbitMQ is not installed; run: sudo apt-get install rabbitmq-server" >&2
    exit 1
  fi
fi

# The Debian package may have started it through its init script already.
if ! port_open; then
  echo "ensure-rabbitmq: starting rabbitmq-server"
  rabbitmq-server -detached
fi
# await_startup returns once the broker's application has booted, not merely the VM.
if ! timeout 120 rabbitmqctl await_startup >/dev/null 2>&1; then
  echo "ensure-rabbitmq: the broker did not finish starting within 120 s" >&2
  exit 1
fi
for _ in $(seq 1 30); do
  port_open && exit 0
  sleep 1
done
echo "ensure-rabbitmq: the broker started but 127.0.0.1:5672 does not answer" >&2
exit 1
