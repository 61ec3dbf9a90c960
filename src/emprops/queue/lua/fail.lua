-- fail: assigned|in_progress -> pending (after a backoff, via the delayed set) while retries
-- remain and the error is retryable; otherwise -> failed and into the dead-letter set.
-- KEYS: job, events, active, delayed, dead
-- ARGV: prefix, id, worker_id, attempt, error, retryable (1|0), base_ms, max_ms, default_keep_ms,
--   error_details (JSON object text, or '' for none: then the field is removed)
local id = ARGV[2]
local ok, status = holds(id, ARGV[3], ARGV[4])
if not ok then return {'lease_lost', status or 'missing'} end
local now = now_ms()
local f = redis.call('HMGET', KEYS[1], 'retry_count', 'max_retries', 'keep_failed_s')
local retries, max_retries = tonumber(f[1] or 0), tonumber(f[2] or 3)
redis.call('ZREM', KEYS[3], id)
if ARGV[10] and ARGV[10] ~= '' then
  redis.call('HSET', KEYS[1], 'error_details', ARGV[10])
else
  redis.call('HDEL', KEYS[1], 'error_details')
end
if ARGV[6] == '1' and retries < max_retries then
  local delay = math.min(tonumber(ARGV[8]), tonumber(ARGV[7]) * 2 ^ retries)
  redis.call('HSET', KEYS[1], 'status', 'pending', 'retry_count', retries + 1, 'error', ARGV[5],
    'last_failed_worker', ARGV[3], 'worker_id', '', 'retry_at', fmt(now + delay))
  redis.call('ZADD', KEYS[4], now + delay, id)
  emit(id, 'job_failed', cjson.encode({error = ARGV[5], worker_id = ARGV[3], retrying = true,
    retry_count = retries + 1, retry_at = now + delay}))
  return {'retrying', fmt(now + delay)}
end
redis.call('HSET', KEYS[1], 'status', 'failed', 'failed_at', fmt(now), 'error', ARGV[5],
  'last_failed_worker', ARGV[3])
redis.call('ZADD', KEYS[5], now, id)
emit(id, 'job_failed', cjson.encode({error = ARGV[5], worker_id = ARGV[3], retrying = false}))
emit(id, 'complete_job', cjson.encode({worker_id = ARGV[3],
  result = {status = 'failed', error = ARGV[5]}}))
retain(id, f[3] and tonumber(f[3]) * 1000 or tonumber(ARGV[9]), now)
return {'failed', ''}
