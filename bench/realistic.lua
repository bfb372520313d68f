-- A mixed read workload for wrk: users browsing deployments, each with their own token.
--
--   BENCH_TOKENS=tokens.txt BENCH_IDS=ids.txt BENCH_MIX=reference \
--     wrk -t2 -c64 -d10s -s bench/realistic.lua http://127.0.0.1:8080
--
-- BENCH_TOKENS  file of bearer tokens, one a line, optionally after a tag: `deploy <token>` (may
--               use the deployment endpoints), `other <token>` (only /api/auth/me and
--               /api/requests, which every user may call), or a bare `<token>` (as deploy). Each
--               request picks one of the tokens allowed for its endpoint at random.
-- BENCH_IDS     file of deployment ids, one a line (needed by the full and soak mixes)
-- BENCH_MIX     reference (default): what the Flask reference serves too
--                 55% /api/deployments?page=1..200&per_page=50
--                 25% page 1 with one filter (status, framework or q)
--                 20% /api/statistics
--               full: Provisio's wider surface
--                 35% list pages, 15% filtered page 1, 15% /api/deployments/<id>,
--                 10% /api/statistics, 10% /api/auth/me, 15% /api/requests?page=1..40&per_page=50
--               soak: the full mix (run it with BENCH_UNIQUE=1)
-- BENCH_UNIQUE  1: every request carries a query string never sent before (`_=<n>`, which the
--               endpoints ignore), so nothing keyed by the URL is ever asked twice
-- done() prints one line:
--   RESULT requests=<n> errors=<n> p50_us=<n> p99_us=<n> rps=<n>
-- errors = wrk's status errors (answers >= 400) + connect, read, write and timeout errors.

-- wrk would only print an error and go on with plain GETs of the URL: stop instead.
local function fail(message)
  io.stderr:write("realistic.lua: " .. message .. "\n")
  os.exit(2)
end

local function read_lines(path, what)
  if path == nil or path == "" then
    fail(what .. " is not set")
  end
  local file, err = io.open(path, "r")
  if not file then
    fail(what .. ": " .. err)
  end
  local found = {}
  for line in file:lines() do
    line = line:match("^%s*(.-)%s*$")
    if line ~= "" then
      found[#found + 1] = line
    end
  end
  file:close()
  if #found == 0 then
    fail(what .. ": " .. path .. " has no lines")
  end
  return found
end

local mix_name = os.getenv("BENCH_MIX") or "reference"
local unique = os.getenv("BENCH_UNIQUE") == "1"
local deployers, everyone = {}, {}
for _, line in ipairs(read_lines(os.getenv("BENCH_TOKENS"), "BENCH_TOKENS")) do
  local tag, token = line:match("^(%S+)%s+(%S+)$")
  if not tag then
    tag, token = "deploy", line
  end
  everyone[#everyone + 1] = token
  if tag == "deploy" then
    deployers[#deployers + 1] = token
  end
end
if #deployers == 0 then
  fail("BENCH_TOKENS has no token for the deployment endpoints (`deploy <token>` or a bare token)")
end
local ids = {}
if mix_name == "full" or mix_name == "soak" then
  ids = read_lines(os.getenv("BENCH_IDS"), "BENCH_IDS")
end

local FILTERS = {
  "status=RUNNING", "status=FAILED",
  "framework=django", "framework=flask", "framework=react", "framework=nextjs",
  "q=app-",  -- followed by a number 1..999
}

-- Each request: its path and the tokens that may ask for it.
local function list_page()
  return "/api/deployments?page=" .. math.random(1, 200) .. "&per_page=50", deployers
end

local function filtered()
  local filter = FILTERS[math.random(#FILTERS)]
  if filter == "q=app-" then
    filter = filter .. math.random(1, 999)
  end
  return "/api/deployments?page=1&per_page=50&" .. filter, deployers
end

local function statistics()
  return "/api/statistics", deployers
end

local function detail()
  return "/api/deployments/" .. ids[math.random(#ids)], deployers
end

local function me()
  return "/api/auth/me", everyone
end

local SORTS = { "-created_at", "hostname", "status" }

local function requests_page()
  return "/api/requests?page=" .. math.random(1, 40) .. "&per_page=50&sort="
    .. SORTS[math.random(#SORTS)], everyone
end

-- Percentages, summing to 100.
local FULL = {
  { 35, list_page }, { 15, filtered }, { 15, detail },
  { 10, statistics }, { 10, me }, { 15, requests_page },
}
local MIXES = {
  reference = { { 55, list_page }, { 25, filtered }, { 20, statistics } },
  full = FULL,
  soak = FULL,
}
local mix = MIXES[mix_name]
if mix == nil then
  fail("BENCH_MIX must be reference, full or soak, not " .. mix_name)
end

-- Runs in the main Lua state, once per thread before it starts: a distinct number per thread.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local headers = {}
local sent, nonce_prefix = 0, ""

-- Runs in each thread's own Lua state.
function init(args)
  local n = thread_number or 0
  math.randomseed(os.time() * 1009 + n * 7919 + math.floor(os.clock() * 1000000))
  for _ = 1, 10 do
    math.random() -- the first draws after seeding are the least mixed
  end
  -- Unique across threads and across runs started in different seconds.
  nonce_prefix = os.time() .. "." .. n .. "."
  for name, value in pairs(wrk.headers) do -- keep -H headers given on the command line
    headers[name] = value
  end
  headers["Accept-Encoding"] = "gzip"
end

function request()
  local r = math.random(100)
  local path, tokens
  for _, entry in ipairs(mix) do
    r = r - entry[1]
    if r <= 0 then
      path, tokens = entry[2]()
      break
    end
  end
  if unique then
    sent = sent + 1
    path = path .. (path:find("?", 1, true) and "&" or "?") .. "_=" .. nonce_prefix .. sent
  end
  headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.status + e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1000000
  io.write(string.format(
    "RESULT requests=%d errors=%d p50_us=%d p99_us=%d rps=%.1f\n",
    summary.requests, errors, math.floor(latency:percentile(50)), math.floor(latency:percentile(99)),
    seconds > 0 and summary.requests / seconds or 0
  ))
end
