"""A row-by-row LSTM digit classifier written with lepton.keras layers: each 28x28 image is
read as a sequence of 28 rows.
Run: python examples/keras_lstm_rows.py [--epochs 3]
"""
import argparse

import lepton.keras as keras
from lepton.keras import layers

from _data import load_digits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    x_train, y_train, x_test, y_test, _ = load_digits()
    x_train, x_test = x_train / 255.0, x_test / 255.0     # (n, 28 rows, 28 pixels)

    model = keras.Sequential([
        keras.Input((28, 28)),
        layers.LSTM(128),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(2e-3, clipnorm=1.0),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, validation_split=0.1)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
