-- requeue_expired (the reaper): a job whose lease ran out (its worker vanished) goes back to
-- pending in its old place, with retry_count + 1 and that worker excluded for a while; or to the
-- dead-letter set when its retries are used up. Idempotent; safe to run from many processes.
-- KEYS: active, dead
-- ARGV: prefix, limit, exclude_ms, default_keep_failed_ms
local now = now_ms()
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local requeued, dead = 0, 0
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  local job_key = PREFIX .. 'job:' .. id
  local f = redis.call('HMGET', job_key, 'status', 'worker_id', 'retry_count', 'max_retries',
    'keep_failed_s')
  if f[1] == 'assigned' or f[1] == 'in_progress' then
    local retries = tonumber(f[3] or 0) + 1
    local err = 'lease expired: worker ' .. (f[2] or '?') .. ' stopped heartbeating'
    redis.call('HSET', job_key, 'retry_count', retries, 'last_failed_worker', f[2] or '',
      'exclude_until', fmt(now + tonumber(ARGV[3])), 'worker_id', '', 'error', err)
    if retries > tonumber(f[4] or 3) then
      redis.call('HSET', job_key, 'status', 'failed', 'failed_at', fmt(now))
      redis.call('ZADD', KEYS[2], now, id)
      emit(id, 'job_failed', cjson.encode({error = err, worker_id = f[2], retrying = false}))
      emit(id, 'complete_job', cjson.encode({result = {status = 'failed', error = err}}))
      retain(id, f[5] and tonumber(f[5]) * 1000 or tonumber(ARGV[4]), now)
      dead = dead + 1
    else
      redis.call('HSET', job_key, 'status', 'pending')
      requeue_pending(id)
      emit(id, 'job_failed', cjson.encode({error = err, worker_id = f[2], retrying = true,
        retry_count = retries}))
      requeued = requeued + 1
    end
  end
end
return {requeued, dead}
