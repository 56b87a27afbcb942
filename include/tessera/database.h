// Database: a directory holding tables, one sub-directory per table.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/options.h"
#include "tessera/record_batch.h"
#include "tessera/result.h"
#include "tessera/table.h"

namespace tessera {

/// A connection to a directory of tables. Cheap; holds no open files.
/// Thread-safe.
class Database {
 public:
  /// Connect to the directory `uri`, creating it if missing. Errors: kIOError.
  static Result<std::unique_ptr<Database>> Connect(std::string_view uri,
                                                   const TableOptions& options = {});

  const std::string& uri() const { return uri_; }
  /// Create table `name` with `schema`. Errors: see Table::Create; kInvalidArgument on a bad name.
  Result<std::unique_ptr<Table>> CreateTable(std::string_view name, const Schema& schema,
                                             CreateMode mode = CreateMode::kCreate);
  /// Create table `name` with the schema of `first` and add `first` as its first fragment.
  Result<std::unique_ptr<Table>> CreateTable(std::string_view name, const RecordBatch& first,
                                             CreateMode mode = CreateMode::kCreate);
  /// Errors: kNotFound.
  Result<std::unique_ptr<Table>> OpenTable(std::string_view name);
  /// Delete table `name` and all its files. Errors: kNotFound.
  Status DropTable(std::string_view name);
  /// Names of the tables in the directory, sorted.
  Result<std::vector<std::string>> TableNames();

 private:
  Database(std::string uri, TableOptions options) : uri_(std::move(uri)), options_(options) {}
  Result<std::string> TablePath(std::string_view name) const;

  std::string uri_;
  TableOptions options_;
};

}  // namespace tessera
