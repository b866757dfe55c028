// Reading iclcert's JSON files field by field, with every error naming the file
// and the field path (for example `X[3][1]`). Unknown fields are rejected.
#pragma once

#include "io/input_error.hpp"
#include "numerics/rational.hpp"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace iclcert {

using Json = nlohmann::ordered_json;

// Parses a whole file; a missing file, malformed JSON, a duplicate key, nesting
// deeper than kMaxJsonDepth and a file beyond the limits of io/limits.hpp
// (Limit::input_bytes, Limit::json_values) are InputErrors naming `path`.
Json load_json_file(const std::string& path);
// The same checks on text already in memory; `file` names it in errors.
Json parse_json_text(std::string_view text, const std::string& file);

// A value for an error message: at most `max_chars` characters (then "..."),
// and nested values beyond a few levels shown as [...] or {...}.
std::string describe_json(const Json& value, std::size_t max_chars = 60);

class JsonReader {
 public:
  JsonReader(const std::string& file, const Json& value, std::string path = "")
      : file_(file), value_(value), path_(std::move(path)) {}

  const Json& value() const { return value_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& expected) const;

  bool has(const char* key) const { return value_.is_object() && value_.contains(key); }
  JsonReader field(const char* key) const;  // required
  JsonReader element(std::size_t index) const;

  void expect_object(std::initializer_list<const char*> allowed) const;  // rejects unknown keys
  std::size_t expect_array(std::size_t min_size, std::size_t max_size) const;
  std::size_t expect_array_of_size(std::size_t size) const;

  // A number per docs/formats.md: a string holds a decimal or fraction read
  // exactly; a JSON number is the double nearest to it, read exactly.
  Rational number() const;
  long integer(long min, long max) const;
  bool boolean() const;
  std::string string() const;
  std::string one_of(std::initializer_list<const char*> choices) const;
  std::string one_of(std::span<const char* const> choices) const;

 private:
  std::string file_;
  const Json& value_;
  std::string path_;
};

// The "format" field: present and equal to 1.
void expect_format_1(const JsonReader& root);

}  // namespace iclcert
