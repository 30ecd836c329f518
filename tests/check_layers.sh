#!/usr/bin/env bash
# The layering rule of STYLE.md: domain folders never include HTTP, JSON or SQL headers.
set -u
src="$(dirname "$0")/../src/tandem"
bad=$(grep -rnE '#include [<"](boost/|nlohmann/|sqlite3|libpq|spdlog/|curl/|tandem/(api|storage|app)/)' \
  "$src/base" "$src/catalog" "$src/inventory" "$src/orders" "$src/customers" "$src/sync" "$src/notify" "$src/documents" 2>/dev/null)
if [ -n "$bad" ]; then
  echo "domain code includes a header it must not:"
  echo "$bad"
  exit 1
fi
echo "layers ok"
