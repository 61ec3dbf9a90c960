-- Shared by every script: server time (one clock for all workers) and event emission.
-- ARGV[1] is always the key prefix `emp:{queue}:`; every key below starts with it (one hash slot).
local PREFIX = ARGV[1]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function fmt(n)
  return string.format('%.0f', n)
end

-- Append an event to the job's stream (replayable) and publish it (live); returns the stream id.
local function emit(job_id, event, data_json)
  local ts = fmt(now_ms())
  local sid = redis.call('XADD', PREFIX .. 'events:' .. job_id, 'MAXLEN', '~', 1000, '*',
    'event', event, 'data', data_json, 'ts', ts)
  redis.call('PUBLISH', PREFIX .. 'events',
    '{"job_id":' .. cjson.encode(job_id) .. ',"id":"' .. sid .. '","event":"' .. event ..
    '","ts":' .. ts .. ',"data":' .. data_json .. '}')
  return sid
end

-- Keep a finished job (and its events) for `keep_ms`, then let Redis drop it; index it for pruning.
local function retain(job_id, keep_ms, now)
  redis.call('PEXPIRE', PREFIX .. 'job:' .. job_id, keep_ms)
  redis.call('PEXPIRE', PREFIX .. 'events:' .. job_id, keep_ms)
  redis.call('ZADD', PREFIX .. 'done', now + keep_ms, job_id)
  local expired = redis.call('ZRANGEBYSCORE', PREFIX .. 'done', '-inf', now, 'LIMIT', 0, 100)
  if #expired > 0 then
    redis.call('ZREM', PREFIX .. 'done', unpack(expired))
    redis.call('ZREM', PREFIX .. 'dead', unpack(expired))
  end
end

-- Fencing: a call about a job must come from the worker holding its current attempt.
local function holds(job_id, worker_id, attempt)
  local f = redis.call('HMGET', PREFIX .. 'job:' .. job_id, 'status', 'worker_id', 'attempt')
  if (f[1] ~= 'assigned' and f[1] ~= 'in_progress') or f[2] ~= worker_id or f[3] ~= attempt then
    return false, f[1]
  end
  return true, f[1]
end

local function requeue_pending(job_id)
  local f = redis.call('HMGET', PREFIX .. 'job:' .. job_id, 'service_required', 'qscore', 'qmember')
  redis.call('ZADD', PREFIX .. 'pending:' .. f[1], f[2], f[3])
  redis.call('PUBLISH', PREFIX .. 'wake', f[1])
end
