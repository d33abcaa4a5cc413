"""The editors' studio: a French web application where content editors improve and retrain the assistant.

Misunderstood patient messages become training examples, a new model is trained,
evaluated and deployed only if it is not worse, and the knowledge base is viewed
and edited; every change is written to an audit log.
"""
