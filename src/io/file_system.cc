#include "io/file_system.h"

#include <string>
#include <utility>

namespace tessera::io {
namespace {

// A MappedFile over an owned string. Immutable after construction.
class StringMappedFile final : public MappedFile {
 public:
  explicit StringMappedFile(std::string bytes) : bytes_(std::move(bytes)) {}

  const uint8_t* data() const override { return reinterpret_cast<const uint8_t*>(bytes_.data()); }
  int64_t size() const override { return static_cast<int64_t>(bytes_.size()); }

 private:
  const std::string bytes_;
};

}  // namespace

std::shared_ptr<const MappedFile> MappedFileFromString(std::string bytes) {
  return std::make_shared<const StringMappedFile>(std::move(bytes));
}

Status WriteFileDurably(FileSystem* fs, const std::string& path, std::string_view contents) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs->NewWritableFile(path));
  Status status = file->Append(contents);
  if (status.ok()) status = file->Sync();
  // Close even after a failed write so the handle is released; report the first error.
  Status closed = file->Close();
  if (status.ok()) status = std::move(closed);
  return status;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  while (a.size() > 1 && a.back() == '/') a.remove_suffix(1);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  std::string joined(a);
  if (joined.back() != '/') joined.push_back('/');
  joined.append(b);
  return joined;
}

}  // namespace tessera::io
