// JsonWriter: JSON text written straight into a string, without building a tree first. For the
// answers of the flash-sale path and the small documents kept in columns, where building and
// freeing a nlohmann::json tree cost more than the rest of the work. Members come out in the
// order they are written; the caller writes a well-formed document (debug builds check only that
// every bracket is closed, every key gets a value and Take() sees a finished document).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // The name of the next member of the open object.
  JsonWriter& Key(std::string_view key);
  // Escaped as JSON requires; bytes that are not UTF-8 become U+FFFD.
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // The text written so far; the writer is empty afterwards.
  std::string Take();

 private:
  void BeforeValue();
  JsonWriter& Close(char bracket);
  std::string out_;
  std::vector<bool> has_members_;  // per open object or array
  bool after_key_ = false;
};

// `text` as a JSON string literal, quotes included, appended to `out`.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace tandem
