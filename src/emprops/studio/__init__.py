"""The Studio: server-rendered pages over the API's services (sign in, projects, collections,
generate and watch, gallery, publish, on-chain, the queue's operator page)."""
