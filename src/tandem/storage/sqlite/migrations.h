// The numbered schema migrations, compiled into the binary from migrations/*.sql.
#pragma once

#include <cstdint>
#include <vector>

namespace tandem::storage::sqlite {

struct Migration {
  int64_t version;
  const char* name;
  const char* sql;
};

// All migrations in version order.
const std::vector<Migration>& Migrations();

}  // namespace tandem::storage::sqlite
