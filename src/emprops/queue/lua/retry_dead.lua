-- retry_dead: failed -> pending, by an operator, with a fresh retry budget and its old place.
-- KEYS: job, events, dead, done
-- ARGV: prefix, id
local id = ARGV[2]
if redis.call('HGET', KEYS[1], 'status') ~= 'failed' then return {'not_failed', ''} end
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
redis.call('ZREM', KEYS[3], id)
redis.call('ZREM', KEYS[4], id)
redis.call('HSET', KEYS[1], 'status', 'pending', 'retry_count', 0, 'worker_id', '')
redis.call('HDEL', KEYS[1], 'failed_at', 'exclude_until')
requeue_pending(id)
emit(id, 'job_retried', '{}')
return {'ok', ''}
