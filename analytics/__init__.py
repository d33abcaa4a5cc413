"""Analytics of the conversations: a pseudonymised projection of Rasa's tracker store and the indicators computed on it."""
