#include "io/json_reader.hpp"

#include <fstream>
#include <sstream>

namespace iclcert {

Json load_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open the file (missing or unreadable)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return Json::parse(buffer.str());
  } catch (const Json::exception& e) {  // parse errors, and numbers that overflow a double
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] "; keep the readable part.
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    throw InputError(path, "", "malformed JSON: " + what);
  }
}

void JsonReader::fail(const std::string& expected) const {
  throw InputError(file_, path_.empty() ? "(top level)" : path_, expected);
}

JsonReader JsonReader::field(const char* key) const {
  std::string sub = path_.empty() ? key : path_ + "." + key;
  if (!has(key)) throw InputError(file_, sub, "missing (required)");
  return JsonReader(file_, value_.at(key), sub);
}

JsonReader JsonReader::element(std::size_t index) const {
  return JsonReader(file_, value_.at(index), path_ + "[" + std::to_string(index) + "]");
}

void JsonReader::expect_object(std::initializer_list<const char*> allowed) const {
  if (!value_.is_object()) fail("expected an object");
  for (const auto& [key, _] : value_.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw InputError(file_, path_.empty() ? key : path_ + "." + key, "unknown field (expected one of: " + list + ")");
    }
  }
}

std::size_t JsonReader::expect_array(std::size_t min_size, std::size_t max_size) const {
  if (!value_.is_array()) fail("expected an array");
  if (value_.size() < min_size || value_.size() > max_size)
    fail("expected an array of " + std::to_string(min_size) + " to " + std::to_string(max_size) +
         " elements, got " + std::to_string(value_.size()));
  return value_.size();
}

std::size_t JsonReader::expect_array_of_size(std::size_t size) const {
  if (!value_.is_array()) fail("expected an array of " + std::to_string(size) + " elements");
  if (value_.size() != size)
    fail("expected an array of " + std::to_string(size) + " elements, got " + std::to_string(value_.size()));
  return size;
}

Rational JsonReader::number() const {
  try {
    if (value_.is_string()) return parse_rational(value_.get<std::string>());
    if (value_.is_number_integer()) return Rational(value_.get<long long>());
    if (value_.is_number_unsigned()) return Rational(value_.get<unsigned long long>());
    if (value_.is_number_float()) return rational_from_double(value_.get<double>());
  } catch (const std::invalid_argument& e) {
    fail(std::string("expected a finite number (a decimal or p/q string, or a JSON number), got ") +
         value_.dump() + " (" + e.what() + ")");
  }
  fail("expected a number (a decimal or p/q string, or a JSON number), got " + value_.dump());
}

long JsonReader::integer(long min, long max) const {
  if (!value_.is_number_integer()) fail("expected an integer, got " + value_.dump());
  long long v = value_.get<long long>();
  if (v < min || v > max)
    fail("expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
         std::to_string(v));
  return static_cast<long>(v);
}

bool JsonReader::boolean() const {
  if (!value_.is_boolean()) fail("expected true or false, got " + value_.dump());
  return value_.get<bool>();
}

std::string JsonReader::string() const {
  if (!value_.is_string()) fail("expected a string, got " + value_.dump());
  return value_.get<std::string>();
}

std::string JsonReader::one_of(std::initializer_list<const char*> choices) const {
  std::string s = value_.is_string() ? value_.get<std::string>() : std::string();
  for (const char* c : choices)
    if (value_.is_string() && s == c) return s;
  std::string list;
  for (const char* c : choices) list += (list.empty() ? "\"" : ", \"") + std::string(c) + "\"";
  fail("expected one of " + list + ", got " + value_.dump());
}

void expect_format_1(const JsonReader& root) {
  JsonReader f = root.field("format");
  if (!f.value().is_number_integer() || f.value().get<long long>() != 1)
    f.fail("expected 1 (the only format this iclcert reads), got " + f.value().dump());
}

}  // namespace iclcert
