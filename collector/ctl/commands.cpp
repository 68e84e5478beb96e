#include "collector/ctl/commands.h"

#include "collector/ctl/arguments.h"
#include "collector/ctl/client.h"
#include "collector/ctl/errors.h"
#include "collector/ctl/output.h"
#include "common/config.h"
#include "common/version_info.h"

#include <chrono>
#include <functional>
#include <ostream>

namespace muster::ctl {

namespace {

namespace json = boost::json;
using query_map = std::map<std::string, std::string>;

// What every command gets: its arguments (the command words removed), the output format,
// the streams, and a client made on first use (so `version` and usage errors need no config).
struct context {
    arguments args;
    output_format format = output_format::table;
    std::ostream& out;
    std::ostream& err;
    std::optional<api_client> client_;

    api_client& client() {
        if (!client_) {
            std::optional<std::filesystem::path> config;
            if (auto file = args.option("config")) config = *file;
            client_.emplace(load_connection_settings(config));
        }
        return *client_;
    }
    const std::string& word(std::size_t i) const { return args.positional.at(i); }
};

// ----------------------------------------------------------------------------------------
// Helpers

const json::object& as_object(const json::value& value, std::string_view what) {
    if (!value.is_object()) throw ctl_error(exit_error, std::string(what) + ": expected an object");
    return value.as_object();
}

std::string path_part(std::string_view text) {
    return url_encode(text);
}

void copy_options(const arguments& args, const std::vector<std::string>& names, query_map& query) {
    for (const auto& name : names) {
        if (auto value = args.option(name)) query[name] = *value;
    }
}

std::size_t limit_option(const arguments& args) {
    auto text = args.option("limit");
    if (!text) return 0;
    std::size_t value = 0;
    bool digits = !text->empty() && text->size() <= 4 &&
                  text->find_first_not_of("0123456789") == std::string::npos;
    if (digits) value = std::stoul(*text);
    if (value < 1 || value > 5000) usage_error("--limit: expected a number from 1 to 5000");
    return value;
}

// Every item of a list: the first page, or with --all every page by next_cursor.
json::array fetch_list(context& ctx, const std::string& path, query_map query) {
    std::size_t limit = limit_option(ctx.args);
    bool all = ctx.args.flag("all");
    if (limit > 0)
        query["limit"] = std::to_string(limit);
    else if (all)
        query["limit"] = "1000";  // fewer round trips; the server allows up to 5000
    json::array items;
    for (;;) {
        auto answer = ctx.client().get(path, query);
        const auto& page = as_object(answer, path);
        const auto* page_items = page.if_contains("items");
        if (!page_items || !page_items->is_array())
            throw ctl_error(exit_error, path + ": the answer has no items");
        for (const auto& item : page_items->as_array()) items.push_back(item);
        const auto* next = page.if_contains("next_cursor");
        if (!next || next->is_null()) break;
        if (!all) {
            ctx.err << "musterctl: more items exist; add --all to fetch every page\n";
            break;
        }
        query["cursor"] = json::value_to<std::string>(*next);
    }
    return items;
}

// Unix seconds, or a duration back from now ("30d", "12h").
std::string time_option(const arguments& args, const std::string& name) {
    auto text = args.option(name);
    if (!text) return "";
    if (!text->empty() && text->find_first_not_of("0123456789") == std::string::npos) return *text;
    auto back = parse_duration(*text);
    if (!back) usage_error("--" + name + ": expected Unix seconds or a duration such as 30d");
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    return std::to_string((now - std::chrono::duration_cast<std::chrono::seconds>(*back)).count());
}

// "openssl<3.0.2" -> software=openssl, version=<3.0.2; "openssl" -> software=openssl.
void software_filter(const std::string& text, query_map& query) {
    auto op = text.find_first_of("<>=");
    std::string name = text.substr(0, op);
    if (name.empty())
        usage_error("--software: expected NAME or NAME<OP>VERSION, e.g. openssl<3.0.2");
    query["software"] = name;
    if (op == std::string::npos) return;
    std::string rest = text.substr(op);
    std::size_t op_size = (rest.size() > 1 && rest[1] == '=') ? 2 : 1;
    std::string op_text = rest.substr(0, op_size);
    if (op_text == "=<" || op_text == "=>" || rest.size() == op_size ||
        rest.find_first_of("<>=", op_size) != std::string::npos)
        usage_error(
            "--software: expected one of <, <=, =, >=, > then a version, e.g. openssl<3.0.2");
    query["version"] = rest;
}

void print_list_or_items(context& ctx, const json::array& items,
                         const std::vector<std::string>& columns) {
    print_list(ctx.out, ctx.format, items, columns);
}

// ----------------------------------------------------------------------------------------
// Commands

int cmd_hosts(context& ctx) {
    ctx.args.allow_only({"software", "search", "state", "os", "tag", "service", "limit", "all"},
                        "hosts");
    ctx.args.expect_positional(0, 0, "musterctl hosts [--software NAME[OP VERSION]] ...");
    query_map query;
    copy_options(ctx.args, {"search", "state", "os", "tag", "service"}, query);
    if (auto software = ctx.args.option("software")) software_filter(*software, query);
    auto items = fetch_list(ctx, "/api/v1/hosts", query);
    std::vector<std::string> columns = {"id", "hostname", "os", "state", "last_seen", "service"};
    if (query.count("software") && ctx.format == output_format::table) {
        // The matching package's version(s), for the table only: json and csv keep the object.
        for (auto& item : items) {
            if (!item.is_object()) continue;
            auto& host = item.as_object();
            const auto* software = host.if_contains("software");
            std::string versions;
            auto add = [&](const json::value& package) {
                if (!package.is_object()) return;
                const auto* version = package.as_object().if_contains("version");
                if (!version) return;
                versions += (versions.empty() ? "" : ",") + cell_text(*version);
            };
            if (software && software->is_array())
                for (const auto& package : software->as_array()) add(package);
            else if (software)
                add(*software);
            host["version"] = versions;
        }
        columns.push_back("version");
    }
    print_list_or_items(ctx, items, columns);
    return exit_ok;
}

int cmd_host(context& ctx) {
    ctx.args.allow_only({}, "host");
    ctx.args.expect_positional(1, 1, "musterctl host NAME|ID");
    auto answer = ctx.client().get("/api/v1/hosts/" + path_part(ctx.word(0)));
    const auto& host = as_object(answer, "host");
    if (ctx.format != output_format::table) {
        print_item(ctx.out, ctx.format, host);
        return exit_ok;
    }
    // People get the identity first, then one line per section with its size.
    std::vector<std::string> fields;
    for (const auto& field : host) fields.emplace_back(field.key());
    print_item(ctx.out, ctx.format, host, fields);
    return exit_ok;
}

int cmd_history(context& ctx) {
    ctx.args.allow_only({"since", "until", "section", "limit", "all"}, "history");
    ctx.args.expect_positional(1, 1,
                               "musterctl history NAME|ID [--since T] [--until T] [--section S]");
    query_map query;
    if (auto since = time_option(ctx.args, "since"); !since.empty()) query["since"] = since;
    if (auto until = time_option(ctx.args, "until"); !until.empty()) query["until"] = until;
    copy_options(ctx.args, {"section"}, query);
    auto items = fetch_list(ctx, "/api/v1/hosts/" + path_part(ctx.word(0)) + "/history", query);
    print_list_or_items(ctx, items,
                        {"id", "time", "section", "key", "change", "old_value", "new_value"});
    return exit_ok;
}

int cmd_software(context& ctx) {
    ctx.args.allow_only({"search", "limit", "all"}, "software");
    ctx.args.expect_positional(0, 1, "musterctl software [NAME]");
    if (ctx.args.positional.empty()) {
        query_map query;
        copy_options(ctx.args, {"search"}, query);
        auto items = fetch_list(ctx, "/api/v1/software", query);
        print_list_or_items(ctx, items, {"name", "versions", "hosts"});
        return exit_ok;
    }
    auto answer = ctx.client().get("/api/v1/software/" + path_part(ctx.word(0)));
    const auto& package = as_object(answer, "software");
    if (ctx.format == output_format::json) {
        print_item(ctx.out, ctx.format, package);
        return exit_ok;
    }
    json::array rows;
    if (const auto* versions = package.if_contains("versions"); versions && versions->is_array()) {
        for (const auto& version : versions->as_array()) {
            json::object row{{"name", package.if_contains("name") ? package.at("name") : nullptr}};
            if (version.is_object())
                for (const auto& field : version.as_object()) row[field.key()] = field.value();
            rows.push_back(std::move(row));
        }
    }
    print_list(ctx.out, ctx.format, rows, {"name", "version", "source", "hosts"});
    return exit_ok;
}

const std::vector<std::string> incident_columns = {"id",    "priority", "state",     "host",
                                                   "check", "status",   "opened_at", "title"};

int cmd_incidents(context& ctx) {
    ctx.args.allow_only({"state", "priority", "host", "service", "check", "limit", "all"},
                        "incidents");
    ctx.args.expect_positional(0, 0, "musterctl incidents [--state S] [--priority P] ...");
    query_map query;
    copy_options(ctx.args, {"state", "priority", "host", "service", "check"}, query);
    print_list_or_items(ctx, fetch_list(ctx, "/api/v1/incidents", query), incident_columns);
    return exit_ok;
}

void require_id(const std::string& text, const std::string& what) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
        usage_error(what + ": expected a number, got '" + text + "'");
}

int cmd_incident(context& ctx) {
    ctx.args.allow_only({"note"}, "incident");
    const std::string usage =
        "musterctl incident show|ack|resolve|close|comment ID [--note TEXT | TEXT]";
    ctx.args.expect_positional(2, 3, usage);
    const std::string& action = ctx.word(0);
    const std::string& id = ctx.word(1);
    require_id(id, "incident ID");
    std::optional<std::string> note = ctx.args.option("note");
    if (ctx.args.positional.size() == 3) {
        if (note) usage_error("give the note once: --note TEXT or TEXT");
        note = ctx.word(2);
    }
    std::string path = "/api/v1/incidents/" + id;
    json::value answer;
    if (action == "show") {
        if (note) usage_error("usage: musterctl incident show ID");
        answer = ctx.client().get(path);
    } else if (action == "ack" || action == "acknowledge" || action == "resolve" ||
               action == "close") {
        json::object body;
        if (note) body["note"] = *note;
        std::string verb = action == "ack" ? "acknowledge" : action;
        answer = ctx.client().post(path + "/" + verb, body);
    } else if (action == "comment") {
        if (!note || note->empty()) usage_error("usage: musterctl incident comment ID TEXT");
        answer = ctx.client().post(path + "/comment", json::object{{"text", *note}});
    } else {
        usage_error("usage: " + usage);
    }
    const auto& incident = as_object(answer, "incident");
    std::vector<std::string> fields;
    for (const auto& field : incident)
        if (field.key() != "events") fields.emplace_back(field.key());
    print_item(ctx.out, ctx.format, incident,
               ctx.format == output_format::table ? fields : std::vector<std::string>{});
    const auto* events = incident.if_contains("events");
    if (ctx.format == output_format::table && events && events->is_array() &&
        !events->as_array().empty()) {
        ctx.out << "\n";
        print_list(ctx.out, ctx.format, events->as_array(), {"time", "actor", "kind", "note"});
    }
    return exit_ok;
}

int cmd_problems(context& ctx) {
    ctx.args.allow_only({"state", "limit", "all"}, "problems");
    ctx.args.expect_positional(0, 0, "musterctl problems [--state open|closed]");
    query_map query;
    copy_options(ctx.args, {"state"}, query);
    print_list_or_items(ctx, fetch_list(ctx, "/api/v1/problems", query),
                        {"id", "state", "host", "check", "opened_at", "incidents"});
    return exit_ok;
}

const std::vector<std::string> agent_columns = {"agent_id", "status",      "hostname",
                                                "ci_id",    "enrolled_at", "last_report_at"};

int cmd_agents(context& ctx) {
    ctx.args.allow_only({"status", "limit", "all"}, "agents");
    ctx.args.expect_positional(0, 0, "musterctl agents [--status pending|active|revoked]");
    query_map query;
    copy_options(ctx.args, {"status"}, query);
    print_list_or_items(ctx, fetch_list(ctx, "/api/v1/agents", query), agent_columns);
    return exit_ok;
}

int cmd_agent(context& ctx) {
    ctx.args.allow_only({}, "agent");
    ctx.args.expect_positional(2, 2, "musterctl agent approve|revoke AGENT_ID");
    const std::string& action = ctx.word(0);
    if (action != "approve" && action != "revoke")
        usage_error("usage: musterctl agent approve|revoke AGENT_ID");
    auto answer = ctx.client().post("/api/v1/agents/" + path_part(ctx.word(1)) + "/" + action, {});
    print_item(ctx.out, ctx.format, as_object(answer, "agent"));
    return exit_ok;
}

int cmd_services(context& ctx) {
    ctx.args.allow_only({}, "services");
    ctx.args.expect_positional(0, 0, "musterctl services");
    // Few enough to come in one answer: the API does not page this list.
    auto answer = ctx.client().get("/api/v1/services");
    const auto* items = as_object(answer, "services").if_contains("items");
    if (!items || !items->is_array())
        throw ctl_error(exit_error, "services: the answer has no items");
    print_list_or_items(ctx, items->as_array(), {"name", "owner", "criticality", "hosts"});
    return exit_ok;
}

int cmd_sql(context& ctx) {
    ctx.args.allow_only({}, "sql");
    ctx.args.expect_positional(1, 1, "musterctl sql \"SELECT ...\"");
    auto answer = ctx.client().post("/api/v1/query", json::object{{"sql", ctx.word(0)}});
    const auto& result = as_object(answer, "query");
    const auto* columns = result.if_contains("columns");
    const auto* rows = result.if_contains("rows");
    if (!columns || !columns->is_array() || !rows || !rows->is_array())
        throw ctl_error(exit_error, "query: the answer has no columns and rows");
    // Objects need distinct keys: a repeated column name gets ":2", ":3".
    std::vector<std::string> names;
    for (const auto& column : columns->as_array()) {
        std::string name = column.is_string() ? std::string(column.as_string()) : "?";
        std::string unique = name;
        for (int n = 2; std::find(names.begin(), names.end(), unique) != names.end(); ++n)
            unique = name + ":" + std::to_string(n);
        names.push_back(unique);
    }
    json::array items;
    for (const auto& row : rows->as_array()) {
        json::object item;
        const auto& cells = row.as_array();
        for (std::size_t i = 0; i < names.size() && i < cells.size(); ++i)
            item[names[i]] = cells[i];
        items.push_back(std::move(item));
    }
    if (ctx.format == output_format::csv && items.empty()) {
        std::string header;
        for (const auto& name : names) header += (header.empty() ? "" : ",") + csv_field(name);
        ctx.out << header << "\r\n";
    } else {
        print_list(ctx.out, ctx.format, items, names);
    }
    if (const auto* truncated = result.if_contains("truncated");
        truncated && truncated->is_bool() && truncated->as_bool())
        ctx.err << "musterctl: the result was cut at the server's row limit\n";
    return exit_ok;
}

int cmd_report(context& ctx) {
    ctx.args.allow_only({"since", "until"}, "report");
    ctx.args.expect_positional(1, 1, "musterctl report sla [--since 30d] [--until T]");
    if (ctx.word(0) != "sla") usage_error("usage: musterctl report sla [--since 30d]");
    query_map query;
    if (auto since = time_option(ctx.args, "since"); !since.empty()) query["since"] = since;
    if (auto until = time_option(ctx.args, "until"); !until.empty()) query["until"] = until;
    auto answer = ctx.client().get("/api/v1/reports/sla", query);
    const auto& report = as_object(answer, "report");
    if (ctx.format == output_format::json) {
        print_item(ctx.out, ctx.format, report);
        return exit_ok;
    }
    const std::vector<std::string> figures = {"incidents",    "acknowledged", "resolved",
                                              "mtta_seconds", "mttr_seconds", "compliant",
                                              "breached",     "compliance"};
    auto group = [&](const char* key, const char* by) {
        const auto* list = report.if_contains(key);
        json::array rows = list && list->is_array() ? list->as_array() : json::array{};
        std::vector<std::string> columns = {by};
        columns.insert(columns.end(), figures.begin(), figures.end());
        return std::pair{rows, columns};
    };
    auto [priorities, priority_columns] = group("by_priority", "priority");
    auto [services, service_columns] = group("by_service", "service");
    if (ctx.format == output_format::csv) {
        json::array all = priorities;
        for (const auto& row : services) all.push_back(row);
        print_list(ctx.out, ctx.format, all, {});
        return exit_ok;
    }
    print_list(ctx.out, ctx.format, priorities, priority_columns);
    ctx.out << "\n";
    print_list(ctx.out, ctx.format, services, service_columns);
    return exit_ok;
}

int cmd_token(context& ctx) {
    ctx.args.allow_only({"role", "limit", "all"}, "token");
    const std::string usage =
        "musterctl token create NAME --role viewer|operator|admin | list | revoke ID";
    if (ctx.args.positional.empty()) usage_error("usage: " + usage);
    const std::string& action = ctx.word(0);
    const std::vector<std::string> columns = {"id",         "name",         "role",
                                              "created_at", "last_used_at", "revoked_at"};
    if (action == "create") {
        ctx.args.expect_positional(2, 2, usage);
        auto role = ctx.args.option("role");
        if (!role) usage_error("token create: --role viewer|operator|admin is required");
        auto answer = ctx.client().post("/api/v1/tokens",
                                        json::object{{"name", ctx.word(1)}, {"role", *role}});
        print_item(ctx.out, ctx.format, as_object(answer, "token"));
        ctx.err << "musterctl: the token is shown this once; keep it safe\n";
    } else if (action == "list") {
        ctx.args.expect_positional(1, 1, usage);
        print_list_or_items(ctx, fetch_list(ctx, "/api/v1/tokens", {}), columns);
    } else if (action == "revoke") {
        ctx.args.expect_positional(2, 2, usage);
        require_id(ctx.word(1), "token ID");
        auto answer = ctx.client().post("/api/v1/tokens/" + ctx.word(1) + "/revoke", {});
        if (answer.is_object()) print_item(ctx.out, ctx.format, answer.as_object());
    } else {
        usage_error("usage: " + usage);
    }
    return exit_ok;
}

int cmd_version(context& ctx) {
    ctx.args.allow_only({}, "version");
    ctx.out << "musterctl " << product_version << "\n";
    return exit_ok;
}

int cmd_help(context& ctx) {
    ctx.out << usage_text();
    return exit_ok;
}

const std::map<std::string, std::function<int(context&)>>& commands() {
    static const std::map<std::string, std::function<int(context&)>> table = {
        {"hosts", cmd_hosts},
        {"host", cmd_host},
        {"history", cmd_history},
        {"software", cmd_software},
        {"incidents", cmd_incidents},
        {"incident", cmd_incident},
        {"problems", cmd_problems},
        {"agents", cmd_agents},
        {"agent", cmd_agent},
        {"services", cmd_services},
        {"sql", cmd_sql},
        {"report", cmd_report},
        {"token", cmd_token},
        {"version", cmd_version},
        {"help", cmd_help},
    };
    return table;
}

output_format format_option(const arguments& args) {
    auto text = args.option("format").value_or("table");
    if (text == "table") return output_format::table;
    if (text == "json") return output_format::json;
    if (text == "csv") return output_format::csv;
    usage_error("--format: expected table, json or csv, got '" + text + "'");
}

}  // namespace

std::string usage_text() {
    return R"(usage: musterctl [--format table|json|csv] [--config FILE] COMMAND ...

  hosts [--software NAME[OP VERSION]] [--search TEXT] [--state STATE] [--os OS]
        [--tag TAG] [--service NAME] [--limit N] [--all]
  host NAME|ID
  history NAME|ID [--since T] [--until T] [--section S] [--limit N] [--all]
  software [NAME] [--search TEXT]
  incidents [--state open|new|acknowledged|resolved|closed] [--priority P1..P4]
            [--host H] [--service S] [--check C]
  incident show|ack|resolve|close|comment ID [--note TEXT | TEXT]
  problems [--state open|closed]
  agents [--status pending|active|revoked]
  agent approve|revoke AGENT_ID
  services
  sql "SELECT ..."
  report sla [--since 30d] [--until T]
  token create NAME --role viewer|operator|admin | token list | token revoke ID
  version

Connection: --config FILE, else MUSTER_URL, MUSTER_TOKEN, MUSTER_CA_FILE, else
~/.config/muster/ctl.yaml. Exit codes: 0 ok, 1 error, 2 usage or configuration,
3 unreachable, 4 unauthorized, 5 forbidden, 6 not found. See docs/musterctl.md.
)";
}

int run_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    arguments parsed = parse_arguments(args);
    if (parsed.flag("help")) {
        out << usage_text();
        return exit_ok;
    }
    if (parsed.positional.empty()) usage_error("no command; try 'musterctl help'");
    std::string name = parsed.positional.front();
    if (name == "--version") name = "version";
    auto found = commands().find(name);
    if (found == commands().end())
        usage_error("unknown command '" + name + "'; try 'musterctl help'");
    parsed.positional.erase(parsed.positional.begin());
    context ctx{std::move(parsed), output_format::table, out, err, std::nullopt};
    ctx.format = format_option(ctx.args);
    return found->second(ctx);
}

}  // namespace muster::ctl
