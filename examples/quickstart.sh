#!/usr/bin/env bash
# The quickstart: masks the bundled sample dump (examples/sample-dump.sql, made by pg_dump from examples/shop.sql)
# with the rules in examples/replica.yaml, stores it in examples/replica-bridge (a relative bridge path resolves from
# the config file's folder), lists the bridge, restores the newest dump to ./restored.sql, and shows a few customers
# before and after. Needs only the .NET 10 SDK.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== building replica (Release)"
dotnet build src/Replica.Cli -c Release -nologo -v quiet -clp:ErrorsOnly
replica() { dotnet src/Replica.Cli/bin/Release/net10.0/replica.dll "$@"; }

echo "== replica dump -c examples/replica.yaml --input examples/sample-dump.sql"
name=$(replica dump -c examples/replica.yaml --input examples/sample-dump.sql)

echo "== replica list -c examples/replica.yaml"
replica list -c examples/replica.yaml

echo "== replica restore -c examples/replica.yaml --name $name --output restored.sql"
replica restore -c examples/replica.yaml --name "$name" --output restored.sql

show() { sed -n '/^COPY public.customers /,/^\\\./p' "$1" | sed -n '2,4p' | cut -f1-6; }
echo
echo "== public.customers in the original dump (first rows, columns id..birth_date):"
show examples/sample-dump.sql
echo
echo "== the same rows in restored.sql, masked:"
show restored.sql
