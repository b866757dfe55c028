#include "proofs/smt_symbol.hpp"

#include <array>
#include <cstring>
#include <stdexcept>
#include <unordered_set>
#include <vector>

namespace iclcert::proofs {
namespace {

bool is_simple_char(char ch) {
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) return true;
  return ch != '\0' && std::strchr("~!@$%^&*_-+=<>.?/", ch) != nullptr;
}

// Reserved words of SMT-LIB 2.6 (section 3.1); a simple symbol may not be one.
bool is_reserved(const std::string& s) {
  static const std::array<const char*, 12> words{"_",      "!",     "as",     "BINARY", "DECIMAL", "exists",
                                                 "forall", "HEXADECIMAL", "let", "match", "NUMERAL", "par"};
  for (const char* w : words)
    if (s == w) return true;
  return s == "STRING";
}

bool is_simple_symbol(const std::string& s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9') || is_reserved(s)) return false;
  for (char ch : s)
    if (!is_simple_char(ch)) return false;
  return true;
}

}  // namespace

std::string smt_symbol(const std::string& name) {
  if (name.empty()) throw std::invalid_argument("an SMT symbol needs a name");
  if (is_simple_symbol(name)) return name;
  if (name.find_first_of("|\\") != std::string::npos)
    throw std::invalid_argument("SMT symbol " + name + ": `|` and `\\` cannot be in a symbol");
  return "|" + name + "|";
}

z3::expr real_symbol(z3::context& ctx, const std::string& name) { return ctx.real_const(smt_symbol(name).c_str()); }

z3::func_decl real_function(z3::context& ctx, const std::string& name, unsigned arity) {
  z3::sort_vector dom(ctx);
  for (unsigned i = 0; i < arity; ++i) dom.push_back(ctx.real_sort());
  return ctx.function(smt_symbol(name).c_str(), dom, ctx.real_sort());
}

bool check_exported_symbols(const z3::expr& e) {
  bool functions = false;
  std::unordered_set<unsigned> seen;
  std::vector<z3::expr> todo{e};
  while (!todo.empty()) {
    const z3::expr t = todo.back();
    todo.pop_back();
    if (!seen.insert(t.id()).second || !t.is_app()) continue;
    const z3::func_decl f = t.decl();
    if (f.decl_kind() == Z3_OP_UNINTERPRETED) {
      const std::string name = f.name().str();
      const bool quoted = name.size() >= 2 && name.front() == '|' && name.back() == '|';
      const std::string plain = quoted ? name.substr(1, name.size() - 2) : name;
      if (plain.empty() || smt_symbol(plain) != name)
        throw std::logic_error("SMT export: symbol " + name + " is not a legal SMT-LIB2 symbol as printed");
      functions = functions || f.arity() > 0;
    }
    for (unsigned i = 0; i < t.num_args(); ++i) todo.push_back(t.arg(i));
  }
  return functions;
}

}  // namespace iclcert::proofs
