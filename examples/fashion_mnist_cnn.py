"""The quick-start CNN on Fashion-MNIST (70,000 clothing images), with lepton.keras.

Needs the data: Debian's ``dataset-fashion-mnist`` package (``apt-get install
dataset-fashion-mnist``), files under ``$LEPTON_DATA_DIR/fashion-mnist``, or a network
connection for the download.
Run: python examples/fashion_mnist_cnn.py [--epochs 10]
"""
import argparse
import time

import lepton.keras as keras
from lepton.keras import layers

from _data import load_fashion

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()
    start = time.perf_counter()
    x_train, y_train, x_test, y_test, _ = load_fashion()
    x_train, x_test = x_train[..., None] / 255.0, x_test[..., None] / 255.0

    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(6, (5, 5), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=args.epochs,
                        validation_data=(x_test, y_test))
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    pred = model.predict(x_test[:8], verbose=0).argmax(-1)
    print("first test images:", ", ".join(f"{CLASSES[p]} ({'ok' if p == t else CLASSES[t]})"
                                          for p, t in zip(pred, y_test[:8])))
    print(f"test accuracy: {acc:.4f} after {len(history.epoch)} epochs, "
          f"{time.perf_counter() - start:.1f} s in all")


if __name__ == "__main__":
    main()
