-- promote_delayed: delayed -> pending when the backoff is over, in the same place as before.
-- KEYS: delayed
-- ARGV: prefix, limit
-- Returns {promoted, next_due_ms or ''}
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  if redis.call('HGET', PREFIX .. 'job:' .. id, 'status') == 'pending' then
    requeue_pending(id)
  end
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {#due, nxt[2] or ''}
