-- Capability matching: does a worker (decoded capabilities) accept a job?
-- Rules (queue.md): service listed; a dedicated worker takes only its workflow; customer access;
-- required models present for the job's service; custom keys by dotted path (list contained,
-- number >=, object key by key, anything else equal); any matching negative requirement rejects.
local NON_CAPABILITY = {timeout_minutes = true, service_type = true, priority = true,
  estimated_duration = true, positive_requirements = true, negative_requirements = true,
  customer_isolation = true, models = true}

local function is_array(t)
  if type(t) ~= 'table' then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do if t[i] == nil then return false end end
  return true
end

local function contains(list, value)
  if type(list) ~= 'table' then return false end
  for _, v in ipairs(list) do if v == value then return true end end
  return false
end

-- A dotted path in the capabilities; a bare hardware key (gpu_model) is also found in `hardware`.
local function lookup(caps, path)
  local value = caps
  for part in string.gmatch(path, '[^.]+') do
    if type(value) ~= 'table' then value = nil break end
    value = value[part]
  end
  if value == nil and not string.find(path, '.', 1, true) and type(caps.hardware) == 'table' then
    value = caps.hardware[path]
  end
  return value
end

local function satisfies(have, want)
  if have == nil or have == cjson.null then return false end
  if type(want) == 'table' then
    if is_array(want) then
      if type(have) ~= 'table' then return #want == 1 and have == want[1] end
      for _, item in ipairs(want) do if not contains(have, item) then return false end end
      return true
    end
    if type(have) ~= 'table' then return false end
    for k, v in pairs(want) do if not satisfies(have[k], v) then return false end end
    return true
  end
  if type(want) == 'number' then
    return tonumber(have) ~= nil and tonumber(have) >= want
  end
  if type(have) == 'table' then return contains(have, want) end
  return have == want
end

-- A negative requirement hits when any of its leaves is satisfied by the worker.
local function hits(have, want)
  if have == nil or have == cjson.null then return false end
  if type(want) == 'table' and not is_array(want) then
    if type(have) ~= 'table' then return false end
    for k, v in pairs(want) do if hits(have[k], v) then return true end end
    return false
  end
  return satisfies(have, want)
end

local function customer_ok(access, customer_id, isolation)
  access = access or {}
  if customer_id and contains(access.denied_customers, customer_id) then return false end
  if access.isolation == 'strict' or isolation == 'strict' then
    return access.isolation == 'strict' and customer_id ~= nil
      and contains(access.allowed_customers, customer_id)
  end
  if isolation == 'loose' and customer_id and type(access.allowed_customers) == 'table'
      and #access.allowed_customers > 0 then
    return contains(access.allowed_customers, customer_id)
  end
  return true
end

-- job: {service=, customer_id=, workflow_id=, req=decoded requirements or nil}
local function matches(caps, job)
  if not contains(caps.services, job.service) then return false end
  if caps.workflow_id and caps.workflow_id ~= job.workflow_id then return false end
  local req = job.req or {}
  local positive = req.positive_requirements
  if positive == nil then positive = req end  -- the flat form: every key but the known ones
  if not customer_ok(caps.customer_access, job.customer_id, positive.customer_isolation) then
    return false
  end
  if type(positive.models) == 'table' then
    local have = type(caps.models) == 'table' and caps.models[job.service] or {}
    for _, m in ipairs(positive.models) do if not contains(have, m) then return false end end
  end
  for key, want in pairs(positive) do
    if not NON_CAPABILITY[key] and not satisfies(lookup(caps, key), want) then return false end
  end
  if type(req.negative_requirements) == 'table' then
    for key, want in pairs(req.negative_requirements) do
      if hits(lookup(caps, key), want) then return false end
    end
  end
  return true
end

local function job_view(job_id, f)
  -- f = HMGET ... 'service_required', 'customer_id', 'workflow_id', 'requirements'
  local req = nil
  if f[4] and f[4] ~= '' then
    local ok, decoded = pcall(cjson.decode, f[4])
    if ok and type(decoded) == 'table' then req = decoded else req = {unparsable = true} end
  end
  return {id = job_id, service = f[1], customer_id = f[2] or nil, workflow_id = f[3] or nil,
    req = req}
end
