"""What the gateway itself says to callers (everything else comes from the Rasa dialogue)."""

REPROMPT = "Je ne vous entends pas. Vous pouvez me poser votre question, ou appuyer sur la touche zéro pour parler à un conseiller."
GOODBYE_SILENCE = "Je ne vous entends toujours pas. Je vais raccrocher ; n'hésitez pas à nous rappeler. Au revoir."
DIALOGUE_DOWN = (
    "Je suis désolé, je rencontre un problème technique et ne peux pas vous répondre pour le moment. "
    "Merci de rappeler dans quelques instants."
)
TRANSFER_FAILED = "Je suis désolé, personne n'est disponible pour le moment. Je vais noter votre demande pour que l'on vous rappelle."
NO_CALLBACK = "Je ne peux pas non plus noter votre demande pour le moment. Merci de rappeler le standard un peu plus tard."
GOODBYE_TOO_LONG = "Notre appel dure depuis longtemps : je dois raccrocher. Vous pouvez nous rappeler à tout moment. Au revoir."
SHUTDOWN = "Désolé, je dois couper notre appel. Merci de rappeler dans un instant."
