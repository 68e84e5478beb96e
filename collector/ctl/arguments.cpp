#include "collector/ctl/arguments.h"

#include "collector/ctl/errors.h"

namespace muster::ctl {

namespace {

// Options that take no value; every other option takes one.
const std::set<std::string> flags = {"all", "help"};
const std::set<std::string> global_options = {"format", "config", "help"};

const std::set<std::string> known_options = {
    "format",   "config", "help",    "all",    "software", "search", "state",
    "os",       "tag",    "service", "limit",  "since",    "until",  "section",
    "priority", "host",   "check",   "status", "note",     "role",
};

}  // namespace

std::optional<std::string> arguments::option(const std::string& name) const {
    auto found = options.find(name);
    if (found == options.end()) return std::nullopt;
    return found->second;
}

void arguments::allow_only(const std::set<std::string>& allowed, const std::string& command) const {
    for (const auto& [name, value] : options) {
        if (!allowed.count(name) && !global_options.count(name))
            usage_error("'" + command + "' takes no option --" + name);
    }
}

void arguments::expect_positional(std::size_t min, std::size_t max,
                                  const std::string& usage) const {
    if (positional.size() < min || positional.size() > max) usage_error("usage: " + usage);
}

arguments parse_arguments(const std::vector<std::string>& args) {
    arguments out;
    bool options_done = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& word = args[i];
        if (options_done || word.size() < 3 || word.rfind("--", 0) != 0) {
            if (word == "--") {
                options_done = true;
                continue;
            }
            out.positional.push_back(word);
            continue;
        }
        std::string name = word.substr(2);
        std::optional<std::string> value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        if (!known_options.count(name)) usage_error("unknown option --" + name);
        if (out.options.count(name)) usage_error("--" + name + " given twice");
        if (flags.count(name)) {
            if (value) usage_error("--" + name + " takes no value");
            out.options[name] = "true";
            continue;
        }
        if (!value) {
            if (i + 1 >= args.size()) usage_error("--" + name + " needs a value");
            value = args[++i];
        }
        out.options[name] = *value;
    }
    return out;
}

}  // namespace muster::ctl
