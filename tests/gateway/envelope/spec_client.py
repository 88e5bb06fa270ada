"""The spec 001 Python example client, ported verbatim (only this docstring and the
ruff pragmas added): a client written from the spec alone. See test_envelope_spec_client."""

# ruff: noqa
# mypy: ignore-errors
# fmt: off
import json
import time
import hmac
import hashlib
import threading
import websocket
from queue import Queue

class TradingPlatformClient:
    def __init__(self, api_key, api_secret, options=None):
        self.api_key = api_key
        self.api_secret = api_secret
        self.options = options or {
            'base_url': 'wss://api.tradingplatform.example.com',
            'reconnect': True,
            'max_reconnect_attempts': 10,
            'reconnect_interval': 1000
        }
        
        self.connections = {}
        self.subscriptions = {}
        self.message_handlers = {}
        self.reconnect_attempts = {}
        self.message_queues = {}
        self.response_events = {}
        
    def connect(self, endpoint):
        if endpoint in self.connections:
            return
        
        url = f"{self.options['base_url']}{endpoint}"
        self.reconnect_attempts[endpoint] = 0
        self.message_queues[endpoint] = Queue()
        self.response_events[endpoint] = {}
        
        def on_open(ws):
            print(f"Connected to {url}")
            self.connections[endpoint] = ws
            
            if endpoint != '/ws/market-data':
                self.authenticate(endpoint)
            
            # Start message processing thread
            threading.Thread(target=self._process_messages, args=(endpoint,), daemon=True).start()
        
        def on_message(ws, message):
            self.message_queues[endpoint].put(message)
        
        def on_error(ws, error):
            print(f"WebSocket error on {endpoint}: {error}")
        
        def on_close(ws, close_status_code, close_msg):
            print(f"Connection closed for {endpoint}: {close_status_code} {close_msg}")
            if endpoint in self.connections:
                del self.connections[endpoint]
            
            if self.options['reconnect'] and self.reconnect_attempts[endpoint] < self.options['max_reconnect_attempts']:
                self.reconnect_attempts[endpoint] += 1
                delay = self.options['reconnect_interval'] * (2 ** (self.reconnect_attempts[endpoint] - 1))
                print(f"Reconnecting to {endpoint} in {delay}ms (attempt {self.reconnect_attempts[endpoint]})")
                
                time.sleep(delay / 1000)
                self.connect(endpoint)
                
                # Resubscribe to channels
                if endpoint in self.subscriptions:
                    self.subscribe(endpoint, self.subscriptions[endpoint])
        
        ws = websocket.WebSocketApp(
            url,
            on_open=on_open,
            on_message=on_message,
            on_error=on_error,
            on_close=on_close
        )
        
        threading.Thread(target=ws.run_forever, daemon=True).start()
    
    def _process_messages(self, endpoint):
        while True:
            message = self.message_queues[endpoint].get()
            data = json.loads(message)
            
            if data.get('type') == 'heartbeat':
                self._handle_heartbeat(endpoint)
            elif data.get('type') == 'error':
                print(f"Error: {data.get('data')}")
            elif data.get('id') in self.response_events[endpoint]:
                event, response_queue = self.response_events[endpoint][data.get('id')]
                response_queue.put(data)
                event.set()
            elif data.get('type') in self.message_handlers:
                self.message_handlers[data.get('type')](data)
    
    def _handle_heartbeat(self, endpoint):
        pong_message = {
            'action': 'pong',
            'data': {
                'timestamp': int(time.time() * 1000)
            }
        }
        
        if endpoint in self.connections:
            self.connections[endpoint].send(json.dumps(pong_message))
    
    def generate_signature(self, timestamp):
        message = f"{self.api_key}{timestamp}"
        signature = hmac.new(
            self.api_secret.encode(),
            message.encode(),
            hashlib.sha256
        ).hexdigest()
        return signature
    
    def authenticate(self, endpoint):
        timestamp = int(time.time() * 1000)
        signature = self.generate_signature(timestamp)
        
        auth_message = {
            'action': 'authenticate',
            'data': {
                'api_key': self.api_key,
                'signature': signature,
                'timestamp': timestamp
            },
            'id': f"auth-{timestamp}"
        }
        
        response = self.send_message(endpoint, auth_message)
        if response.get('data', {}).get('status') == 'success':
            print(f"Authentication successful for {endpoint}")
        else:
            raise Exception(f"Authentication failed: {response.get('data', {}).get('message')}")
    
    def send_message(self, endpoint, message):
        if endpoint not in self.connections:
            raise Exception(f"No connection for {endpoint}")
        
        message_id = message.get('id') or f"msg-{int(time.time() * 1000)}"
        message['id'] = message_id
        
        event = threading.Event()
        response_queue = Queue()
        self.response_events[endpoint][message_id] = (event, response_queue)
        
        self.connections[endpoint].send(json.dumps(message))
        
        # Wait for response with timeout
        if event.wait(timeout=10):
            response = response_queue.get()
            del self.response_events[endpoint][message_id]
            return response
        else:
            del self.response_events[endpoint][message_id]
            raise Exception(f"Timeout waiting for response to {message.get('action')}")
    
    def subscribe(self, endpoint, channels):
        if not isinstance(channels, list):
            channels = [channels]
        
        if endpoint not in self.subscriptions:
            self.subscriptions[endpoint] = []
        
        self.subscriptions[endpoint] = list(set(self.subscriptions[endpoint] + channels))
        
        subscribe_message = {
            'action': 'subscribe',
            'data': {
                'channels': channels
            },
            'id': f"sub-{int(time.time() * 1000)}"
        }
        
        return self.send_message(endpoint, subscribe_message)
    
    def unsubscribe(self, endpoint, channels):
        if not isinstance(channels, list):
            channels = [channels]
        
        if endpoint in self.subscriptions:
            self.subscriptions[endpoint] = [c for c in self.subscriptions[endpoint] if c not in channels]
        
        unsubscribe_message = {
            'action': 'unsubscribe',
            'data': {
                'channels': channels
            },
            'id': f"unsub-{int(time.time() * 1000)}"
        }
        
        return self.send_message(endpoint, unsubscribe_message)
    
    def on_message(self, message_type, handler):
        self.message_handlers[message_type] = handler
    
    def submit_order(self, order):
        order_message = {
            'action': 'submit_order',
            'data': order,
            'id': f"order-{int(time.time() * 1000)}"
        }
        
        return self.send_message('/ws/trading', order_message)
    
    def cancel_order(self, order_id):
        cancel_message = {
            'action': 'cancel_order',
            'data': {
                'order_id': order_id
            },
            'id': f"cancel-{int(time.time() * 1000)}"
        }
        
        return self.send_message('/ws/trading', cancel_message)
    
    def close(self):
        for endpoint, ws in self.connections.items():
            ws.close()
