#include "tessera/database.h"

#include <algorithm>

#include "io/file_system.h"

namespace tessera {
namespace {

Result<io::FileSystem*> FileSystemOf(std::string_view uri, const TableOptions& options) {
  return io::FileSystemFor(uri, options.file_system);
}

}  // namespace

Result<std::unique_ptr<Database>> Database::Connect(std::string_view uri,
                                                    const TableOptions& options) {
  if (uri.empty()) return Status::InvalidArgument("connect: empty database path");
  TESSERA_ASSIGN_OR_RETURN(io::FileSystem * fs, FileSystemOf(uri, options));
  Status st = fs->CreateDirs(std::string(uri));
  if (!st.ok()) return st.WithContext("connect to '", uri, "'");
  return std::unique_ptr<Database>(new Database(std::string(uri), options));
}

Result<std::string> Database::TablePath(std::string_view name) const {
  const bool valid =
      !name.empty() && name.size() <= 255 && name.front() != '.' &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      });
  if (!valid) {
    return Status::InvalidArgument("invalid table name '", name,
                                   "' (use letters, digits, '_', '-', '.'; not starting with '.')");
  }
  return io::JoinPath(uri_, name);
}

Result<std::unique_ptr<Table>> Database::CreateTable(std::string_view name, const Schema& schema,
                                                     CreateMode mode) {
  TESSERA_ASSIGN_OR_RETURN(std::string path, TablePath(name));
  return Table::Create(path, schema, mode, options_);
}

Result<std::unique_ptr<Table>> Database::CreateTable(std::string_view name,
                                                     const RecordBatch& first, CreateMode mode) {
  TESSERA_ASSIGN_OR_RETURN(std::string path, TablePath(name));
  return Table::Create(path, first, mode, options_);
}

Result<std::unique_ptr<Table>> Database::OpenTable(std::string_view name) {
  TESSERA_ASSIGN_OR_RETURN(std::string path, TablePath(name));
  return Table::Open(path, options_);
}

Status Database::DropTable(std::string_view name) {
  TESSERA_ASSIGN_OR_RETURN(std::string path, TablePath(name));
  TESSERA_ASSIGN_OR_RETURN(io::FileSystem * fs, FileSystemOf(uri_, options_));
  TESSERA_ASSIGN_OR_RETURN(bool exists, fs->Exists(io::JoinPath(path, "_versions")));
  if (!exists) return Status::NotFound("table '", name, "' does not exist");
  return fs->DeleteDirRecursive(path);
}

Result<std::vector<std::string>> Database::TableNames() {
  TESSERA_ASSIGN_OR_RETURN(io::FileSystem * fs, FileSystemOf(uri_, options_));
  TESSERA_ASSIGN_OR_RETURN(std::vector<io::FileInfo> entries, fs->ListDir(uri_));
  std::vector<std::string> names;
  for (const io::FileInfo& entry : entries) {
    if (!entry.is_dir) continue;
    TESSERA_ASSIGN_OR_RETURN(bool is_table,
                             fs->Exists(io::JoinPath(io::JoinPath(uri_, entry.name), "_versions")));
    if (is_table) names.push_back(entry.name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace tessera
