"""Front-ends: models from other frameworks -> Graph. TensorFlow is imported only when used."""
