// Test-only Node-RED node file, copied into <userDir>/nodes by the browser test. It registers no node
// type: it adds one admin endpoint that publishes a message on a comms topic, so the test can play the
// part of a linking socket that received a QR from WhatsApp (no WhatsApp is reachable here).
module.exports = function (RED) {
  RED.httpAdmin.post('/e2e-test/comms-publish', function (req, res) {
    RED.comms.publish(String(req.body.topic), req.body.data, false);
    res.json({ published: true });
  });
};
