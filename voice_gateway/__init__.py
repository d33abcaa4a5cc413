"""The voice channel: phone calls answered with Vosk recognition and Piper synthesis around the Rasa dialogue."""
