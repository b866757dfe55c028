#include "io/json_reader.hpp"

#include "io/input_file.hpp"
#include "io/limits.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <unordered_set>
#include <vector>

namespace iclcert {

namespace {

// One open array or object while parsing: enough to name the path of a
// duplicate key or of too deep a value, and to find duplicate keys.
struct OpenContainer {
  bool object = false;
  std::size_t index = 0;  // arrays: the element being read
  std::string key;        // objects: the key being read
  std::unordered_set<std::string> keys;
};

std::string path_of(const std::vector<OpenContainer>& open) {
  std::string path;
  for (const auto& c : open) {
    if (c.object) path += (path.empty() ? "" : ".") + c.key;
    else path += "[" + std::to_string(c.index) + "]";
  }
  return path.empty() ? "(top level)" : path;
}

// Whole file, at most `cap` bytes: a larger file (or /dev/zero) is refused
// after reading cap + 1 bytes, never read whole.
std::string read_capped(const std::string& path) {
  const std::uint64_t cap = limit(Limit::input_bytes);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path, "", "is a directory, expected a JSON file");
  check_input_file(path);  // a FIFO would block the open below for ever
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open the file (missing or unreadable)");
  const auto size = std::filesystem::is_regular_file(path, ec) ? std::filesystem::file_size(path, ec) : 0;
  if (!ec && size > cap)
    throw InputError(path, "", "the file's size, " + std::to_string(size) + " bytes, " + beyond_limit(Limit::input_bytes, "bytes"));
  std::string text;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > cap)
      throw InputError(path, "", "the input is larger than " + std::to_string(cap) + " bytes, the limit (raise it with " +
                                     limit_variable(Limit::input_bytes) + " if you mean it)");
  }
  if (in.bad()) throw InputError(path, "", "reading the file failed");
  return text;
}

// How far the decimal exponent of a number string ("1.5e-4000") goes beyond
// +-kFreeDecimalExponent; 0 for a string that is no such number. An exponent of
// more than 7 digits counts as 10^7 (parse_rational refuses it anyway).
std::uint64_t exponent_excess(const std::string& text) {
  const auto e = text.find_last_of("eE");
  if (e == std::string::npos || e == 0) return 0;
  std::string_view mantissa(text.data(), e), exponent(text.data() + e + 1, text.size() - e - 1);
  if (!mantissa.empty() && (mantissa[0] == '-' || mantissa[0] == '+')) mantissa.remove_prefix(1);
  if (!exponent.empty() && (exponent[0] == '-' || exponent[0] == '+')) exponent.remove_prefix(1);
  if (mantissa.empty() || exponent.empty() || mantissa.find_first_not_of("0123456789.") != std::string_view::npos ||
      exponent.find_first_not_of("0123456789") != std::string_view::npos)
    return 0;
  std::uint64_t size = 0;
  for (const char c : exponent)
    size = std::min<std::uint64_t>(size * 10 + static_cast<std::uint64_t>(c - '0'), 10'000'000);
  return size > kFreeDecimalExponent ? size - kFreeDecimalExponent : 0;
}

}  // namespace

Json parse_json_text(std::string_view text, const std::string& file) {
  const std::uint64_t max_values = limit(Limit::json_values);
  const std::uint64_t max_excess = limit(Limit::large_exponents);
  std::uint64_t values = 0, excess = 0;
  std::vector<OpenContainer> open;
  using Event = Json::parse_event_t;
  // Checks as the parser goes: depth and size before the value is built, keys
  // as they come; throwing stops the parser.
  auto check = [&](int /*depth*/, Event event, Json& parsed) -> bool {
    auto count = [&] {
      if (++values > max_values)
        throw InputError(file, "", "the number of JSON values " + beyond_limit(Limit::json_values, "values"));
    };
    auto element_done = [&] {
      if (!open.empty() && !open.back().object) ++open.back().index;
    };
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        count();
        if (open.size() >= static_cast<std::size_t>(kMaxJsonDepth))
          throw InputError(file, path_of(open), "arrays and objects nested deeper than " +
                                                    std::to_string(kMaxJsonDepth) + " levels");
        open.push_back({event == Event::object_start, 0, {}, {}});
        break;
      case Event::key: {
        std::string key = parsed.get<std::string>();
        if (!open.back().keys.insert(key).second) {
          open.back().key = key;
          throw InputError(file, path_of(open), "appears twice in the same object (duplicate key)");
        }
        open.back().key = std::move(key);
        break;
      }
      case Event::value:
        count();
        // Before any digit is converted: the memory and time of exact values.
        if (parsed.is_string() && (excess += exponent_excess(parsed.get_ref<const std::string&>())) > max_excess)
          throw InputError(file, path_of(open), "the decimal exponents of the file's number strings, counted beyond +-" +
                                                    std::to_string(kFreeDecimalExponent) + ", add up to more than " +
                                                    std::to_string(max_excess) + " (raise it with " +
                                                    limit_variable(Limit::large_exponents) + " if you mean it)");
        element_done();
        break;
      case Event::object_end:
      case Event::array_end:
        if (!open.empty()) open.pop_back();
        element_done();
        break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), check);
  } catch (const Json::exception& e) {  // parse errors, and numbers that overflow a double
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] "; keep the readable part.
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    throw InputError(file, "", "malformed JSON: " + what);
  }
}

Json load_json_file(const std::string& path) { return parse_json_text(read_capped(path), path); }

std::string describe_json(const Json& value, std::size_t max_chars) {
  std::string out;
  // Depth-first with a budget: stops once the text is long enough, so neither a
  // deep nor a huge value costs more than a few dozen characters.
  auto render = [&](auto&& self, const Json& v, int depth) -> void {
    if (out.size() > max_chars) return;
    if (v.is_array() || v.is_object()) {
      if (depth >= 3 || v.empty()) {
        out += v.is_array() ? (v.empty() ? "[]" : "[...]") : (v.empty() ? "{}" : "{...}");
        return;
      }
      out += v.is_array() ? "[" : "{";
      bool first = true;
      for (auto it = v.begin(); it != v.end() && out.size() <= max_chars; ++it) {
        if (!first) out += ", ";
        first = false;
        if (v.is_object()) out += Json(it.key()).dump(-1, ' ', false, Json::error_handler_t::replace) + ": ";
        self(self, *it, depth + 1);
      }
      out += v.is_array() ? "]" : "}";
      return;
    }
    if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      out += Json(s.substr(0, max_chars + 1)).dump(-1, ' ', false, Json::error_handler_t::replace);
      return;
    }
    out += v.dump();
  };
  render(render, value, 0);
  if (out.size() > max_chars) out = out.substr(0, max_chars) + "...";
  return out;
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
    // Unsigned first: nlohmann's is_number_integer() holds for it too, and 2^63 as a
    // long long would wrap to -2^63.
    if (value_.is_number_unsigned()) return Rational(value_.get<unsigned long long>());
    if (value_.is_number_integer()) return Rational(value_.get<long long>());
    if (value_.is_number_float()) return rational_from_double(value_.get<double>());
  } catch (const std::invalid_argument& e) {
    fail(std::string("expected a finite number (a decimal or p/q string, or a JSON number), got ") +
         describe_json(value_) + " (" + e.what() + ")");
  }
  fail("expected a number (a decimal or p/q string, or a JSON number), got " + describe_json(value_));
}

long JsonReader::integer(long min, long max) const {
  const std::string range = "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got ";
  // A whole number beyond 2^64 arrives as a double: too large, not "not an integer".
  if (value_.is_number_float() && std::fabs(value_.get<double>()) >= 0x1p63)
    fail(range + describe_json(value_) + " (too large)");
  if (!value_.is_number_integer()) fail("expected an integer, got " + describe_json(value_));
  // Unsigned above 2^63 - 1 would wrap to a negative long long: compare it as it is.
  const bool in_range = value_.is_number_unsigned()
                            ? max >= 0 && value_.get<unsigned long long>() <= static_cast<unsigned long long>(max) &&
                                  (min <= 0 || value_.get<unsigned long long>() >= static_cast<unsigned long long>(min))
                            : value_.get<long long>() >= min && value_.get<long long>() <= max;
  if (!in_range) fail(range + describe_json(value_));
  return static_cast<long>(value_.get<long long>());
}

bool JsonReader::boolean() const {
  if (!value_.is_boolean()) fail("expected true or false, got " + describe_json(value_));
  return value_.get<bool>();
}

std::string JsonReader::string() const {
  if (!value_.is_string()) fail("expected a string, got " + describe_json(value_));
  return value_.get<std::string>();
}

std::string JsonReader::one_of(std::initializer_list<const char*> choices) const {
  return one_of(std::span<const char* const>(choices.begin(), choices.size()));
}

std::string JsonReader::one_of(std::span<const char* const> choices) const {
  std::string s = value_.is_string() ? value_.get<std::string>() : std::string();
  for (const char* c : choices)
    if (value_.is_string() && s == c) return s;
  std::string list;
  for (const char* c : choices) list += (list.empty() ? "\"" : ", \"") + std::string(c) + "\"";
  fail("expected one of " + list + ", got " + describe_json(value_));
}

void expect_format_1(const JsonReader& root) {
  JsonReader f = root.field("format");
  if (!f.value().is_number_integer() || f.value().get<long long>() != 1)
    f.fail("expected 1 (the only format this iclcert reads), got " + describe_json(f.value()));
}

}  // namespace iclcert
