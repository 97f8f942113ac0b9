-- wrk script for every bench workload; the harness (bench/run.py) sets the environment.
--   BENCH_WORKLOAD  purchase | redemption | voucher | balance | mixed | earn (the baseline)
--   BENCH_TOKEN     API key;  BENCH_TAG  unique per run (idempotency keys, order ids)
--   BENCH_MEMBERS, BENCH_PAYERS, BENCH_CODES  files with one member id / voucher code a line
--   BENCH_THREADS   wrk's -t, to share out the voucher codes without overlap
--   BENCH_CODE_OFFSET  where this run's codes begin: every run redeems codes of its own

local threads_started = 0
local all_threads = {}

function setup(thread)
  threads_started = threads_started + 1
  thread:set("thread_number", threads_started)
  all_threads[threads_started] = thread
end

-- refusals by status, and the first refusal's body, so that errors can be told apart
failures = {}
first_failure = ""

function response(status, headers, body)
  if status >= 400 then
    failures[tostring(status)] = (failures[tostring(status)] or 0) + 1
    if first_failure == "" then
      first_failure = string.sub(body or "", 1, 300)
    end
  end
end

local function read_lines(path)
  local lines = {}
  if path == nil or path == "" then
    return lines
  end
  for line in io.lines(path) do
    lines[#lines + 1] = line
  end
  return lines
end

local workload, tag, members, payers, codes, threads
local counter = 0
local code_index = 0
local validated = false
local headers = {}

function init(args)
  workload = os.getenv("BENCH_WORKLOAD")
  tag = os.getenv("BENCH_TAG") or "run"
  threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  members = read_lines(os.getenv("BENCH_MEMBERS"))
  payers = read_lines(os.getenv("BENCH_PAYERS"))
  codes = read_lines(os.getenv("BENCH_CODES"))
  code_index = tonumber(os.getenv("BENCH_CODE_OFFSET") or "0") + thread_number
  math.randomseed(os.time() * 1000 + thread_number)
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")
end

local function unique()
  counter = counter + 1
  return tag .. "-" .. thread_number .. "-" .. counter
end

local function post(path, body)
  headers["Idempotency-Key"] = unique()
  return wrk.format("POST", path, headers, body)
end

local function purchase()
  local member = members[math.random(#members)]
  local order = unique()
  local body = '{"member_id":"' .. member .. '","order_id":"' .. order .. '",'
    .. '"channel":"pos","currency":"EUR","total":4590,"items":['
    .. '{"sku":"COFFEE","category":"drinks","quantity":2,"unit_price":450},'
    .. '{"sku":"CAKE","category":"bakery","quantity":1,"unit_price":390},'
    .. '{"sku":"BEANS","category":"grocery","quantity":1,"unit_price":3300}]}'
  return post("/v1/purchases", body)
end

local function redemption()
  local payer = payers[math.random(#payers)]
  return post("/v1/members/" .. payer .. "/redemptions", '{"points":1}')
end

local function balance()
  local member = members[math.random(#members)]
  headers["Idempotency-Key"] = nil
  return wrk.format("GET", "/v1/members/" .. member .. "/balance", headers)
end

local function next_code()
  local code = codes[code_index]
  code_index = code_index + threads
  return code
end

local function voucher_redeem(code)
  return post("/v1/vouchers/" .. code .. "/redeem",
    '{"order_id":"' .. unique() .. '","total":4590,"currency":"EUR"}')
end

-- validate, then redeem the same code: a checkout's two calls
local current_code
local function voucher()
  if not validated then
    current_code = next_code()
    validated = true
    headers["Idempotency-Key"] = nil
    return wrk.format("POST", "/v1/vouchers/" .. current_code .. "/validate", headers,
      '{"total":4590,"currency":"EUR"}')
  end
  validated = false
  return voucher_redeem(current_code)
end

local function earn()
  local body = '{"account_id":' .. math.random(100000) .. ',"points":45,"reference":"'
    .. unique() .. '"}'
  headers["Idempotency-Key"] = nil
  return wrk.format("POST", "/earn", headers, body)
end

local function mixed()
  local dice = math.random(100)
  if dice <= 60 then
    return purchase()
  elseif dice <= 80 then
    return balance()
  elseif dice <= 90 then
    return redemption()
  end
  return voucher_redeem(next_code())
end

local workloads = {
  purchase = purchase,
  redemption = redemption,
  voucher = voucher,
  balance = balance,
  mixed = mixed,
  earn = earn,
}

function request()
  return workloads[workload]()
end

function done(summary, latency, requests)
  local errors = summary.errors
  for _, thread in ipairs(all_threads) do
    local counted = thread:get("failures")
    for status, count in pairs(counted or {}) do
      io.write(string.format("BENCH_FAILURES %s %d %s\n", status, count,
        string.gsub(thread:get("first_failure") or "", "\n", " ")))
    end
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout + errors.status,
    latency:percentile(50), latency:percentile(99)))
end
